package main

// What a Mastodon follower of a course sees when the course's people edit,
// delete and moderate, checked by a peer that applies activities the way
// Mastodon does (mastodon_peer_test.go).

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
)

func TestMastodonFollowerSeesModeration(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	a.createUser(t, "olga")
	a.createUser(t, "lena")
	olga, lena := a.user(t, "olga"), a.user(t, "lena")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "boosts", Title: "Boosts", Tags: []string{"go"}})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	if _, err := a.actions.Enroll(ctx, lena, course); err != nil {
		t.Fatal(err)
	}
	peer := newMastoPeer(t)
	t.Cleanup(func() { peer.checkNoProblems(t) })
	followID := peer.follow(t, "mia", courseIRI, courseIRI+"/inbox")
	eventually(t, "mia's Follow accepted", 15*time.Second, func() (bool, error) { return len(peer.received("Accept")) == 1, nil })

	// Two posts by lena, boosted by the course.
	edited, err := a.actions.Post(ctx, lena, courseIRI, "First try", "")
	if err != nil {
		t.Fatal(err)
	}
	removed, err := a.actions.Post(ctx, lena, courseIRI, "Something a moderator removes", "")
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := a.actions.Post(ctx, lena, courseIRI, "Something lena deletes", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []courses.Post{edited, removed, deleted} {
		eventually(t, "the boost of "+p.IRI, 15*time.Second, func() (bool, error) { return len(peer.boosted(p.IRI)) == 1, nil })
	}

	t.Run("LocalEditReachesFollowerAsUpdate", func(t *testing.T) {
		if _, err := a.actions.EditPost(ctx, lena, edited.IRI, "Second try, **better**"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the edit at the peer", 15*time.Second, func() (bool, error) {
			st, _ := peer.status(edited.IRI)
			return strings.Contains(st.Content, "<strong>better</strong>"), nil
		})
		for _, u := range peer.received("Update") {
			if idOf(u.Body["object"]) == edited.IRI && u.Actor != a.urls.User("lena") {
				t.Errorf("Update of lena's post sent by %s", u.Actor)
			}
		}
	})

	t.Run("RemovalUndoesTheBoost", func(t *testing.T) {
		boosts := peer.boosted(removed.IRI)
		if err := a.actions.RemovePost(ctx, olga, removed.IRI); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the boost undone at the peer", 15*time.Second, func() (bool, error) { return len(peer.boosted(removed.IRI)) == 0, nil })
		var undo *mastoActivity
		for _, u := range peer.received("Undo") {
			if inner, _ := u.Body["object"].(map[string]any); inner != nil && str(inner["id"]) == boosts[0] {
				undo = &u
			}
		}
		if undo == nil || undo.Actor != courseIRI {
			t.Fatalf("no Undo from the course naming Announce %s: %+v", boosts[0], peer.received("Undo"))
		}
		if inner := undo.Body["object"].(map[string]any); str(inner["object"]) != removed.IRI || str(inner["type"]) != "Announce" {
			t.Errorf("the undone Announce is %v, want the Announce of %s", inner, removed.IRI)
		}
		// The colearn Delete goes out too, and the removal is logged.
		eventually(t, "the course's Delete", 15*time.Second, func() (bool, error) {
			for _, d := range peer.received("Delete") {
				if d.Actor == courseIRI && idOf(d.Body["object"]) == removed.IRI {
					return true, nil
				}
			}
			return false, nil
		})
		log, err := a.courses.ModerationLog(ctx, a.pool, 10)
		if err != nil || len(log) == 0 || log[0].Action != courses.ModPostRemove || log[0].Target != removed.IRI || log[0].Actor != "olga" {
			t.Errorf("moderation log %+v (%v), want olga's post.remove of %s first", log, err, removed.IRI)
		}
	})

	t.Run("AuthorDeletionUndoesTheBoost", func(t *testing.T) {
		if err := a.actions.DeletePost(ctx, lena, deleted.IRI); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the boost undone and the post deleted at the peer", 15*time.Second, func() (bool, error) {
			st, _ := peer.status(deleted.IRI)
			return len(peer.boosted(deleted.IRI)) == 0 && st.Deleted, nil
		})
	})

	t.Run("RemoteAuthorDeletionUndoesTheBoost", func(t *testing.T) {
		// mia posts from her server; the course boosts it to its members,
		// mia's server included; she deletes it there.
		iri := peer.post(t, "mia", courseIRI, "<p>Hello from Mastodon</p>")
		eventually(t, "the boost of mia's post", 15*time.Second, func() (bool, error) { return len(peer.boosted(iri)) == 1, nil })
		peer.deletePost(t, "mia", iri, courseIRI+"/inbox")
		eventually(t, "the boost of mia's post undone", 15*time.Second, func() (bool, error) { return len(peer.boosted(iri)) == 0, nil })
		if p, err := a.post(ctx, iri); err != nil || !p.Deleted {
			t.Errorf("mia's post on the course's instance: %+v, %v", p, err)
		}
	})

	t.Run("CourseUpdateCarriesTheGETDocument", func(t *testing.T) {
		edit := courses.CourseDraft{Title: "Boosts, renamed", Summary: "Now with a *summary*", Tags: []string{"go", "fediverse"},
			ManuallyApproves: true, Language: "en", Licence: course.Licence}
		c, err := a.actions.UpdateCourse(ctx, olga, course.ID, course.Version, edit)
		if err != nil {
			t.Fatal(err)
		}
		var update json.RawMessage
		eventually(t, "the course's Update", 15*time.Second, func() (bool, error) {
			for _, raw := range peer.rawOf("Update") {
				var u struct {
					Actor  string          `json:"actor"`
					Object json.RawMessage `json:"object"`
				}
				if json.Unmarshal(raw, &u) == nil && u.Actor == courseIRI {
					update = u.Object
					return true, nil
				}
			}
			return false, nil
		})
		status, doc := a.get(t, "/courses/"+c.Slug, "application/activity+json")
		if status != 200 {
			t.Fatalf("GET course: %d", status)
		}
		var sent, served map[string]any
		if err := json.Unmarshal(update, &sent); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(doc, &served); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sent, served) {
			t.Fatalf("the Update's object differs from the GET:\nsent   %s\nserved %s", update, doc)
		}
		for _, term := range []string{"@context", "publicKey", "assertionMethod", "manuallyApprovesFollowers", "discoverable", "tag", "colearn:course", "licence", "modules"} {
			if _, ok := sent[term]; !ok {
				t.Errorf("the Update's Group has no %s", term)
			}
		}
		if sent["manuallyApprovesFollowers"] != true || sent["name"] != "Boosts, renamed" {
			t.Errorf("the Update carries the old course: %v", sent)
		}
	})

	t.Run("BlockSendsReject", func(t *testing.T) {
		if err := a.actions.Block(ctx, olga, course, peer.iri("mia")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the Reject of mia's Follow", 15*time.Second, func() (bool, error) {
			peer.mu.Lock()
			defer peer.mu.Unlock()
			return peer.rejected[followID], nil
		})
		m, err := a.courses.MemberOf(ctx, a.pool, course.ID, peer.iri("mia"))
		if err != nil || m.State != courses.StateBlocked {
			t.Errorf("mia's membership after the block: %+v, %v", m, err)
		}
	})
}
