package main

// A peer that handles keys exactly as GoToSocial 0.20 does follows a course
// on a real instance: key ids without a fragment, a stub of the actor at the
// key URL, the actor document only for signed GETs, and every request
// colearn makes checked by GoToSocial's signature rules.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
)

func TestGoToSocialFollowsACourse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	a.createUser(t, "olga")
	course, err := a.actions.CreateCourse(ctx, a.user(t, "olga"), courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go", Summary: "Go."})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(course.Slug)

	gts := peertest.Start(t)
	gts.CheckGoToSocialSignatures()
	gina := gts.NewGoToSocialActor("gina")
	gina.Doc["name"] = "<b>Gina</b>"
	gts.Publish(gina)

	// The actor document is refused to an unsigned GET, as GoToSocial does.
	if status, _ := get(t, gina.IRI); status != http.StatusUnauthorized {
		t.Fatalf("unsigned GET of the GoToSocial actor: %d, want 401", status)
	}

	actorHits := gts.Hits(gts.Path(gina.IRI))
	follow := gina.Activity("Follow", map[string]any{"object": courseIRI, "to": []string{courseIRI}})
	status, body := gina.Post(ctx, courseIRI+"/inbox", gts.JSON(follow), peertest.SignOptions{})
	if status != http.StatusAccepted {
		t.Fatalf("Follow: %d %s", status, body)
	}
	// colearn took the key from the stub to its owner, and fetched the
	// owner signed, with a signature GoToSocial accepts.
	if s, a := gts.Hits(gts.Path(gina.KeyID)), gts.Hits(gts.Path(gina.IRI))-actorHits; s != 1 || a != 1 {
		t.Errorf("stub fetched %d times, actor %d times; want 1 and 1", s, a)
	}

	accept := waitForDelivery(t, gts, "/users/gina/inbox", "Accept")
	if obj, _ := accept["object"].(map[string]any); obj == nil || obj["id"] != follow["id"] {
		if accept["object"] != follow["id"] {
			t.Errorf("Accept of %v, want the Follow %s", accept["object"], follow["id"])
		}
	}

	noteID := gina.IRI + "/statuses/01HGTS"
	create := gina.Activity("Create", map[string]any{
		"id": noteID + "/activity",
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"},
		"cc": []string{courseIRI, gina.IRI + "/followers"},
		"object": map[string]any{
			"id": noteID, "type": "Note", "attributedTo": gina.IRI, "content": "<p>Hello from GoToSocial</p>",
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{courseIRI, gina.IRI + "/followers"},
		},
	})
	if status, body := gina.Post(ctx, a.urls.SharedInbox(), gts.JSON(create), peertest.SignOptions{}); status != http.StatusAccepted {
		t.Fatalf("Create: %d %s", status, body)
	}
	announce := waitForDelivery(t, gts, "/inbox", "Announce")
	if announce["object"] != noteID || announce["actor"] != courseIRI {
		t.Errorf("Announce by %v of %v, want the course announcing %s", announce["actor"], announce["object"], noteID)
	}

	// A signed fetch of a URL with a query passes GoToSocial's checks,
	// which put the query in (request-target).
	page1 := gina.IRI + "/outbox?page=true"
	gts.Handle("/users/gina/outbox", peertest.Response{RequireSignature: true, Body: gts.JSON(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": page1, "type": "OrderedCollectionPage", "orderedItems": []any{},
	})})
	if _, err := a.resolver.Object(ctx, page1); err != nil {
		t.Errorf("signed fetch of %s: %v", page1, err)
	}

	// The remote display name is shown as text, not markup.
	status, page := a.get(t, "/courses/"+course.Slug, "text/html")
	if status != http.StatusOK {
		t.Fatalf("course page: %d", status)
	}
	if !strings.Contains(string(page), "Hello from GoToSocial") {
		t.Fatalf("the post is not on the course page")
	}
	if strings.Contains(string(page), "<b>Gina</b>") || !strings.Contains(string(page), "&lt;b&gt;Gina&lt;/b&gt;") {
		t.Errorf("the remote display name is not shown as plain text")
	}
}

// waitForDelivery waits for a POST of an activity of type typ at path and
// returns it, failing if GoToSocial's rules refused its signature.
func waitForDelivery(t *testing.T, p *peertest.Peer, path, typ string) map[string]any {
	t.Helper()
	var found map[string]any
	eventually(t, typ+" delivered to "+path, 15*time.Second, func() (bool, error) {
		for _, r := range p.Received(path) {
			var act map[string]any
			if json.Unmarshal(r.Body, &act) != nil || act["type"] != typ {
				continue
			}
			if r.SignatureError != "" {
				t.Fatalf("%s to %s: GoToSocial's checks refuse the signature: %s", typ, path, r.SignatureError)
			}
			found = act
			return true, nil
		}
		return false, nil
	})
	return found
}

// get is an unsigned GET asking for ActivityStreams.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, []byte(b.String())
}
