package main

// Following people: a Mastodon-like peer (mastodon_peer_test.go, which
// verifies every signature from the signer's origin) follows a colearn
// user, gets the user's Accept, sees the followers collection, and receives
// the user's public posts and edits from the user; Undo(Follow) stops them;
// however many followers one host creates, a post reaches it once; a
// blocked server's followers go and cannot come back.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/peertest"
)

// followersOf reads /users/NAME/followers and its first page (signed by the
// instance actor, so it works with authorized fetch too) and returns the
// collection's totalItems and the page's items.
func (ti *testInstance) followersOf(t *testing.T, user string) (int, []string) {
	t.Helper()
	kp, err := ti.keys.Get(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	signer := &federation.Signer{KeyID: federation.MainKey(ti.urls.InstanceActor()), Key: kp.RSA}
	id := federation.Followers(ti.urls.User(user))
	var col struct {
		ID         string `json:"id"`
		TotalItems int    `json:"totalItems"`
		First      string `json:"first"`
	}
	var page struct {
		TotalItems   int      `json:"totalItems"`
		PartOf       string   `json:"partOf"`
		OrderedItems []string `json:"orderedItems"`
	}
	// The two GETs are not one snapshot: a follow applied between them
	// changes the count. They must agree once nothing changes between.
	for attempt := 1; ; attempt++ {
		body, err := ti.client.Get(t.Context(), id, federation.AcceptActivity, signer)
		if err != nil || json.Unmarshal(body, &col) != nil || col.ID != id || col.First != id+"?page=1" {
			t.Fatalf("GET %s: %v %s", id, err, body)
		}
		body, err = ti.client.Get(t.Context(), col.First, federation.AcceptActivity, signer)
		if err != nil || json.Unmarshal(body, &page) != nil || page.PartOf != id {
			t.Fatalf("GET %s: %v %s", col.First, err, body)
		}
		if page.TotalItems == col.TotalItems {
			return col.TotalItems, page.OrderedItems
		}
		if attempt == 5 {
			t.Fatalf("%s counts %d, its first page %d, in 5 readings", id, col.TotalItems, page.TotalItems)
		}
	}
}

// fedifyWaitFollowers waits until user's followers collection lists want.
func fedifyWaitFollowers(t *testing.T, ti *testInstance, user string, want ...string) {
	t.Helper()
	eventually(t, user+"'s followers "+strings.Join(want, ", "), 15*time.Second, func() (bool, error) {
		n, items := ti.followersOf(t, user)
		slices.Sort(items)
		return n == len(want) && slices.Equal(items, slices.Sorted(slices.Values(want))), nil
	})
}

// deliveredInboxes lists every inbox the delivery jobs of activityID carry.
func (ti *testInstance) deliveredInboxes(t *testing.T, activityID string) []string {
	t.Helper()
	rows, err := ti.pool.Query(t.Context(), `SELECT coalesce(args->>'inbox', ''), coalesce(args->'inboxes', '[]'::jsonb)
		FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set') AND args->>'activity_id' = $1`, activityID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var one string
		var many []string
		if err := rows.Scan(&one, &many); err != nil {
			t.Fatal(err)
		}
		if one != "" {
			out = append(out, one)
		}
		out = append(out, many...)
	}
	return out
}

// mastoCreateOf returns the Create of object iri the peer received, if any.
func mastoCreateOf(p *mastoPeer, actor, iri string) (mastoActivity, bool) {
	for _, c := range p.received("Create") {
		if c.Actor == actor && idOf(c.Body["object"]) == iri {
			return c, true
		}
	}
	return mastoActivity{}, false
}

func TestMastodonFollowsColearnUser(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	a.createUser(t, "olga")
	a.createUser(t, "lena")
	olga, lena := a.user(t, "olga"), a.user(t, "lena")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "people", Title: "People"})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)
	if _, err := a.actions.Enroll(ctx, lena, course); err != nil {
		t.Fatal(err)
	}
	lenaIRI := a.urls.User("lena")
	peer, other := newMastoPeer(t), newMastoPeer(t)
	t.Cleanup(func() { peer.checkNoProblems(t); other.checkNoProblems(t) })

	if n, _ := a.followersOf(t, "lena"); n != 0 {
		t.Fatalf("lena has %d followers before anyone followed", n)
	}
	followID := peer.follow(t, "mia", lenaIRI, lenaIRI+"/inbox")
	eventually(t, "lena's Accept of mia's Follow", 15*time.Second, func() (bool, error) {
		for _, acc := range peer.received("Accept") {
			if acc.Actor == lenaIRI && idOf(acc.Body["object"]) == followID {
				return true, nil
			}
		}
		return false, nil
	})
	fedifyWaitFollowers(t, a, "lena", peer.iri("mia"))

	post, err := a.actions.Post(ctx, lena, courseIRI, "Hello, followers", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("PublicPostReachesFollowerAsCreate", func(t *testing.T) {
		var c mastoActivity
		eventually(t, "lena's Create at mia's server", 15*time.Second, func() (bool, error) {
			var ok bool
			c, ok = mastoCreateOf(peer, lenaIRI, post.IRI)
			return ok, nil
		})
		if !slices.Contains(strs(c.Body["cc"]), federation.Followers(lenaIRI)) || !slices.Contains(strs(c.Body["to"]), federation.Public) {
			t.Errorf("Create addressed to %v cc %v, want Public and lena's followers", c.Body["to"], c.Body["cc"])
		}
		obj, _ := c.Body["object"].(map[string]any)
		if str(obj["attributedTo"]) != lenaIRI || !strings.Contains(str(obj["content"]), "Hello, followers") {
			t.Errorf("the Create's Note: %v", obj)
		}
	})

	t.Run("EditReachesFollowerAsUpdate", func(t *testing.T) {
		if _, err := a.actions.EditPost(ctx, lena, post.IRI, "Hello, **followers**"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "lena's Update at mia's server", 15*time.Second, func() (bool, error) {
			for _, u := range peer.received("Update") {
				obj, _ := u.Body["object"].(map[string]any)
				if u.Actor == lenaIRI && str(obj["id"]) == post.IRI && strings.Contains(str(obj["content"]), "<strong>followers</strong>") {
					return slices.Contains(strs(u.Body["cc"]), federation.Followers(lenaIRI)), nil
				}
			}
			return false, nil
		})
	})

	t.Run("UndoFollowStopsDeliveries", func(t *testing.T) {
		noorFollow := other.follow(t, "noor", lenaIRI, lenaIRI+"/inbox")
		eventually(t, "lena's Accept of noor's Follow", 15*time.Second, func() (bool, error) {
			for _, acc := range other.received("Accept") {
				if acc.Actor == lenaIRI && idOf(acc.Body["object"]) == noorFollow {
					return true, nil
				}
			}
			return false, nil
		})
		if err := peer.send(t, "mia", lenaIRI+"/inbox", map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": followID + "/undo", "type": "Undo", "actor": peer.iri("mia"),
			"object": map[string]any{"id": followID, "type": "Follow", "actor": peer.iri("mia"), "object": lenaIRI}}); err != nil {
			t.Fatal(err)
		}
		fedifyWaitFollowers(t, a, "lena", other.iri("noor"))
		after, err := a.actions.Post(ctx, lena, courseIRI, "Only for those who still follow", "")
		if err != nil {
			t.Fatal(err)
		}
		var c mastoActivity
		eventually(t, "the post at noor's server", 15*time.Second, func() (bool, error) {
			var ok bool
			c, ok = mastoCreateOf(other, lenaIRI, after.IRI)
			return ok, nil
		})
		// The fan-out inserted every delivery at once: none goes to mia's host.
		for _, inbox := range a.deliveredInboxes(t, c.ID) {
			if strings.Contains(inbox, peer.host()) {
				t.Errorf("after the Undo, %s is still delivered to %s", c.ID, inbox)
			}
		}
		if _, ok := mastoCreateOf(peer, lenaIRI, after.IRI); ok {
			t.Errorf("mia's server received %s after mia's Undo(Follow)", after.IRI)
		}
	})

	t.Run("ManyFollowersOnOneHostGetOneDelivery", func(t *testing.T) {
		flood := peertest.Start(t)
		var iris []string
		for i := range 5 {
			f := flood.NewActor(fmt.Sprintf("f%d", i))
			// Each declares its own shared inbox: a host cannot multiply deliveries.
			f.Doc["endpoints"] = map[string]any{"sharedInbox": fmt.Sprintf("%s/inbox/%d", flood.URL, i)}
			flood.Publish(f)
			if status, body := f.Post(ctx, lenaIRI+"/inbox", flood.JSON(f.Activity("Follow", map[string]any{"object": lenaIRI})), peertest.SignOptions{}); status != http.StatusAccepted {
				t.Fatalf("Follow by %s: %d %s", f.IRI, status, body)
			}
			iris = append(iris, f.IRI)
		}
		fedifyWaitFollowers(t, a, "lena", append([]string{other.iri("noor")}, iris...)...)
		third, err := a.actions.Post(ctx, lena, courseIRI, "To a crowd", "")
		if err != nil {
			t.Fatal(err)
		}
		var c mastoActivity
		eventually(t, "the post at noor's server", 15*time.Second, func() (bool, error) {
			var ok bool
			c, ok = mastoCreateOf(other, lenaIRI, third.IRI)
			return ok, nil
		})
		var toFlood []string
		for _, inbox := range a.deliveredInboxes(t, c.ID) {
			if strings.Contains(inbox, flood.Host) {
				toFlood = append(toFlood, inbox)
			}
		}
		if len(toFlood) != 1 {
			t.Errorf("the post goes to %v on the host of 5 followers, want one inbox", toFlood)
		}
		eventually(t, "the delivery at the crowd's host", 15*time.Second, func() (bool, error) {
			n := 0
			for _, r := range flood.Received("") {
				if strings.Contains(string(r.Body), third.IRI) {
					n++
				}
			}
			return n == 1, nil
		})
	})

	t.Run("BlockedDomainLosesItsFollowers", func(t *testing.T) {
		if _, _, err := a.actions.BlockDomain(ctx, "olga", other.host(), "test"); err != nil {
			t.Fatal(err)
		}
		n, items := a.followersOf(t, "lena")
		if slices.Contains(items, other.iri("noor")) || n != 5 {
			t.Errorf("after blocking %s lena's followers are %d %v", other.host(), n, items)
		}
		// Its Follows are refused from now on (the running instance applies
		// the block within two seconds) and record nothing.
		eventually(t, "a Follow from the blocked server refused", 15*time.Second, func() (bool, error) {
			body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
				"id": other.iri("noor") + "#again-" + fmt.Sprint(time.Now().UnixNano()), "type": "Follow", "actor": other.iri("noor"), "object": lenaIRI})
			err := other.client.Post(ctx, lenaIRI+"/inbox", body, &federation.Signer{KeyID: other.iri("noor") + "#main-key", Key: other.keys.RSA})
			var se *federation.StatusError
			return errors.As(err, &se) && se.StatusCode == http.StatusForbidden, nil
		})
		var rows int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM user_followers WHERE actor_iri = $1`, other.iri("noor")).Scan(&rows); err != nil || rows != 0 {
			t.Errorf("noor's follow rows after the block: %d (%v)", rows, err)
		}
	})
}
