package main

// Remote actor changes, driven by a scriptable peer (internal/peertest)
// with real keys: Update refreshes where a member is delivered to, only
// from what the actor's origin serves; Delete of an actor removes it and
// hides its posts, only once its origin says it is gone; Move is believed
// only when the new account lists the old one in alsoKnownAs.

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
)

// appliedActivity waits until ti applied (or dropped) activity id and
// returns the reason it recorded, "" when applied.
func appliedActivity(t *testing.T, ti *testInstance, id string) string {
	t.Helper()
	var reason string
	eventually(t, "activity "+id+" applied", 20*time.Second, func() (bool, error) {
		var done bool
		err := ti.pool.QueryRow(t.Context(), `SELECT processed_at IS NOT NULL, error FROM inbox_activities WHERE activity_id = $1`, id).Scan(&done, &reason)
		if err != nil {
			return false, nil
		}
		return done, nil
	})
	return reason
}

// send posts an activity by actor to inbox and fails unless it is accepted.
func sendAs(t *testing.T, p *peertest.Peer, actor *peertest.Actor, inbox string, act map[string]any) string {
	t.Helper()
	status, body := actor.Post(t.Context(), inbox, p.JSON(act), peertest.SignOptions{})
	if status != http.StatusAccepted {
		t.Fatalf("%s by %s: %d %s", act["type"], actor.IRI, status, body)
	}
	return act["id"].(string)
}

func TestRemoteActorChanges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	a.createUser(t, "olga")
	olga := a.user(t, "olga")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "changes", Title: "Changes"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	peer := peertest.Start(t)
	join := func(t *testing.T, actor *peertest.Actor) {
		t.Helper()
		sendAs(t, peer, actor, courseIRI+"/inbox", actor.Activity("Follow", map[string]any{"object": courseIRI}))
		eventually(t, actor.IRI+" enrolled", 15*time.Second, func() (bool, error) {
			m, err := a.courses.MemberOf(ctx, a.pool, course.ID, actor.IRI)
			return err == nil && m.State == courses.StateAccepted, nil
		})
	}
	member := func(t *testing.T, actor *peertest.Actor) courses.Member {
		t.Helper()
		m, err := a.courses.MemberOf(ctx, a.pool, course.ID, actor.IRI)
		if err != nil {
			t.Fatalf("member %s: %v", actor.IRI, err)
		}
		return m
	}
	bob, eve := peer.NewActor("bob"), peer.NewActor("eve")
	join(t, bob) // eve is no member: one shared inbox votes for the host (memberTargets)
	if m := member(t, bob); m.Inbox != bob.IRI+"/inbox" || m.SharedInbox != peer.URL+"/inbox" {
		t.Fatalf("bob's member row: inbox %q shared %q", m.Inbox, m.SharedInbox)
	}

	t.Run("UpdateMovesTheInbox", func(t *testing.T) {
		bob.Doc["inbox"] = bob.IRI + "/inbox2"
		bob.Doc["endpoints"] = map[string]any{"sharedInbox": peer.URL + "/shared2"}
		bob.Doc["name"] = "Bob, renamed"
		peer.Publish(bob)
		id := sendAs(t, peer, bob, courseIRI+"/inbox", bob.Activity("Update", map[string]any{"object": bob.Doc}))
		if reason := appliedActivity(t, a, id); reason != "" {
			t.Fatalf("bob's Update: %s", reason)
		}
		m := member(t, bob)
		if m.Inbox != bob.IRI+"/inbox2" || m.SharedInbox != peer.URL+"/shared2" || m.Name != "Bob, renamed" {
			t.Fatalf("after the Update bob's row: %q %q %q", m.Inbox, m.SharedInbox, m.Name)
		}
		// The course's next delivery goes to the new shared inbox.
		ann, err := a.actions.Announce(ctx, olga, course, "After the move of inboxes")
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the announcement at bob's new shared inbox", 15*time.Second, func() (bool, error) {
			for _, r := range peer.Received("/shared2") {
				if strings.Contains(string(r.Body), ann.IRI) {
					return true, nil
				}
			}
			return false, nil
		})
	})

	t.Run("UpdateBodyDisagreeingWithOriginChangesNothing", func(t *testing.T) {
		lie := map[string]any{}
		for k, v := range bob.Doc {
			lie[k] = v
		}
		lie["inbox"] = bob.IRI + "/inbox-lie"
		lie["endpoints"] = map[string]any{"sharedInbox": peer.URL + "/shared-lie"}
		id := sendAs(t, peer, bob, courseIRI+"/inbox", bob.Activity("Update", map[string]any{"object": lie}))
		appliedActivity(t, a, id)
		if m := member(t, bob); m.Inbox != bob.IRI+"/inbox2" || m.SharedInbox != peer.URL+"/shared2" {
			t.Errorf("an Update whose body the origin contradicts moved bob's inboxes to %q %q", m.Inbox, m.SharedInbox)
		}
		var stored string
		if err := a.pool.QueryRow(ctx, `SELECT inbox FROM remote_actors WHERE iri = $1`, bob.IRI).Scan(&stored); err != nil || stored != bob.IRI+"/inbox2" {
			t.Errorf("cached actor inbox %q (%v), want the origin's", stored, err)
		}
	})

	t.Run("UpdateOfAnotherActorRefused", func(t *testing.T) {
		// The origin now serves a new inbox for bob, but eve sends the
		// Update: nothing of bob changes until bob says so himself.
		bob.Doc["inbox"] = bob.IRI + "/inbox3"
		peer.Publish(bob)
		id := sendAs(t, peer, eve, courseIRI+"/inbox", eve.Activity("Update", map[string]any{"object": bob.Doc}))
		if reason := appliedActivity(t, a, id); !strings.Contains(reason, "may not update") {
			t.Errorf("eve's Update of bob recorded %q, want a refusal", reason)
		}
		if m := member(t, bob); m.Inbox != bob.IRI+"/inbox2" {
			t.Errorf("eve's Update of bob moved his inbox to %q", m.Inbox)
		}
		id = sendAs(t, peer, bob, courseIRI+"/inbox", bob.Activity("Update", map[string]any{"object": bob.IRI}))
		appliedActivity(t, a, id)
		if m := member(t, bob); m.Inbox != bob.IRI+"/inbox3" {
			t.Errorf("bob's own Update left his inbox at %q", m.Inbox)
		}
	})

	// bob posts in the course, for the Delete below to hide.
	noteIRI := bob.IRI + "/notes/1"
	note := map[string]any{"id": noteIRI, "type": "Note", "attributedTo": bob.IRI, "content": "<p>bob was here</p>",
		"to": []string{"https://www.w3.org/ns/activitystreams#Public", courseIRI}, "published": time.Now().UTC().Format(time.RFC3339)}
	peer.Serve(peer.Path(noteIRI), note)
	sendAs(t, peer, bob, courseIRI+"/inbox", bob.Activity("Create", map[string]any{"object": note, "to": note["to"]}))
	eventually(t, "bob's post stored", 15*time.Second, func() (bool, error) {
		p, err := a.post(ctx, noteIRI)
		return err == nil && !p.Deleted, nil
	})

	t.Run("DeleteOfAnActorStillServedChangesNothing", func(t *testing.T) {
		id := sendAs(t, peer, bob, courseIRI+"/inbox", bob.Activity("Delete", map[string]any{"object": bob.IRI}))
		if reason := appliedActivity(t, a, id); !strings.Contains(reason, "still serves") {
			t.Errorf("the premature Delete recorded %q, want a refusal", reason)
		}
		member(t, bob)
		if p, err := a.post(ctx, noteIRI); err != nil || p.Deleted {
			t.Errorf("bob's post after a Delete his origin contradicts: %+v %v", p, err)
		}
	})

	t.Run("DeleteOfAGoneActorRemovesIt", func(t *testing.T) {
		peer.Handle(peer.Path(bob.IRI), peertest.Response{Status: http.StatusGone, Body: []byte(`{"type":"Tombstone"}`)})
		id := sendAs(t, peer, bob, courseIRI+"/inbox", bob.Activity("Delete", map[string]any{"object": bob.IRI}))
		if reason := appliedActivity(t, a, id); reason != "" {
			t.Fatalf("bob's Delete: %s", reason)
		}
		if _, err := a.courses.MemberOf(ctx, a.pool, course.ID, bob.IRI); !errors.Is(err, courses.ErrNotFound) {
			t.Errorf("bob is still a member after his Delete: %v", err)
		}
		if p, err := a.post(ctx, noteIRI); err != nil || !p.Deleted {
			t.Errorf("bob's post after his Delete: %+v %v", p, err)
		}
		status, body := a.get(t, "/courses/"+course.Slug, "text/html")
		if status != http.StatusOK || strings.Contains(string(body), "bob was here") {
			t.Errorf("the course page (%d) still shows bob's post", status)
		}
		// A late copy of the post changes nothing.
		if err := a.courses.Tombstoned(ctx, a.pool, noteIRI); !errors.Is(err, courses.ErrTombstoned) {
			t.Errorf("bob's post has no tombstone: %v", err)
		}
	})

	t.Run("MoveTargetMustBeTheDocumentServed", func(t *testing.T) {
		gina := peer.NewActor("gina")
		join(t, gina)
		// A document at one address that claims to be an account elsewhere,
		// listing gina: the account it names never said so itself (its own
		// document, fetched from its origin, does not list her).
		elsewhere := peertest.Start(t)
		mallory := elsewhere.NewActor("mallory")
		impostor := peer.NewActor("impostor")
		doc := maps.Clone(mallory.Doc)
		doc["alsoKnownAs"] = []string{gina.IRI}
		peer.Serve(peer.Path(impostor.IRI), doc)
		id := sendAs(t, peer, gina, courseIRI+"/inbox", gina.Activity("Move", map[string]any{
			"id": gina.IRI + "/moves/1", "object": gina.IRI, "target": impostor.IRI}))
		if reason := appliedActivity(t, a, id); reason == "" {
			t.Errorf("a Move to a document whose id is %s was applied", mallory.IRI)
		}
		if m, err := a.courses.MoveOf(ctx, a.pool, gina.IRI); !errors.Is(err, courses.ErrNotFound) {
			t.Errorf("a Move to a document served under another id was recorded: %+v %v", m, err)
		}
	})

	t.Run("MoveNeedsAlsoKnownAs", func(t *testing.T) {
		carol, dave := peer.NewActor("carol"), peer.NewActor("dave")
		join(t, carol)
		move := func() string {
			return sendAs(t, peer, carol, courseIRI+"/inbox", carol.Activity("Move", map[string]any{
				"id": fmt.Sprintf("%s/moves/%d", carol.IRI, time.Now().UnixNano()), "object": carol.IRI, "target": dave.IRI}))
		}
		if reason := appliedActivity(t, a, move()); !strings.Contains(reason, "alsoKnownAs") {
			t.Errorf("a Move to an account that does not list carol recorded %q, want a refusal", reason)
		}
		if _, err := a.courses.MoveOf(ctx, a.pool, carol.IRI); !errors.Is(err, courses.ErrNotFound) {
			t.Errorf("a Move without alsoKnownAs was recorded: %v", err)
		}
		dave.Doc["alsoKnownAs"] = []string{carol.IRI}
		peer.Publish(dave)
		if reason := appliedActivity(t, a, move()); reason != "" {
			t.Fatalf("carol's Move: %s", reason)
		}
		m, err := a.courses.MoveOf(ctx, a.pool, carol.IRI)
		if err != nil || m.MovedTo != dave.IRI {
			t.Fatalf("carol's move: %+v %v", m, err)
		}
		// carol stays a member: dave follows by himself if he wishes.
		roster, err := a.courses.Roster(ctx, a.pool, course.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range roster {
			if r.ActorIRI == carol.IRI {
				found = r.MovedTo == dave.IRI
			}
			if r.ActorIRI == dave.IRI {
				t.Errorf("dave became a member through carol's Move")
			}
		}
		if !found {
			t.Errorf("the roster does not show carol moved to %s: %+v", dave.IRI, roster)
		}
	})
}
