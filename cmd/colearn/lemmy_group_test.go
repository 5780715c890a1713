package main

// A colearn user enrolls in a group that is not a colearn course, a
// community on a peer that behaves as Lemmy does (peertest.LemmyCommunity:
// it refuses Join, accepts Follow, wants posts addressed to it with
// audience, and announces posts wrapped in their Create), through the web
// pages over real HTTP: Follow, Accept, a post in FEP-1b12 form, the
// community's Announces on the user's page for it, and Undo(Follow).

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
)

// webUser is a signed-in browser session on a test instance, over HTTP.
type webUser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func signUp(t *testing.T, ti *testInstance, username string) *webUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &webUser{t: t, base: "http://" + ti.addr, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	u.post("/signup", url.Values{"username": {username}, "display_name": {username}, "password": {"a long enough password"}})
	return u
}

// post submits a form and expects the redirect that follows success.
func (u *webUser) post(path string, form url.Values) string {
	u.t.Helper()
	resp, err := u.c.PostForm(u.base+path, form)
	if err != nil {
		u.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		u.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

func (u *webUser) page(path string) string {
	u.t.Helper()
	resp, err := u.c.Get(u.base + path)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		u.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return string(body)
}

// applied waits until the instance has applied the activity id and returns
// the reason it recorded if it dropped it.
func (ti *testInstance) applied(t *testing.T, id string) string {
	t.Helper()
	var reason string
	eventually(t, "activity "+id+" applied", 20*time.Second, func() (bool, error) {
		var done bool
		err := ti.pool.QueryRow(t.Context(), `SELECT processed_at IS NOT NULL, error FROM inbox_activities WHERE activity_id = $1`, id).Scan(&done, &reason)
		return err == nil && done, nil
	})
	return reason
}

// lemmyPage is a post as Lemmy publishes one in a community.
func lemmyPage(id, author, community, title, content string) map[string]any {
	return map[string]any{
		"@context": []any{"https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"},
		"id":       id, "type": "Page", "attributedTo": author, "name": title,
		"content": content, "mediaType": "text/html",
		"source": map[string]any{"content": title, "mediaType": "text/markdown"},
		"to":     []string{community, peertest.Public}, "cc": []string{}, "audience": community,
		"published": "2026-12-01T20:00:00Z",
	}
}

// lemmyCreate wraps a post in its author's Create, as Lemmy announces it.
func lemmyCreate(author string, post map[string]any, community string) map[string]any {
	return map[string]any{
		"id": post["id"].(string) + "/create", "type": "Create", "actor": author, "object": post,
		"to": []string{community, peertest.Public}, "cc": []string{}, "audience": community,
	}
}

func TestLemmyGroupEnrollsAndAnnounces(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	bob := signUp(t, a, "bob")
	bobIRI := a.urls.User("bob")

	lemmy := peertest.Start(t)
	golang := lemmy.NewLemmyCommunity("golang", "Go programmers")
	ada := lemmy.NewActor("ada") // a Lemmy user of the community's own server
	other := peertest.Start(t)   // a third server, whose user posts in the community
	mia := other.NewActor("mia")

	// Enrolling sends Follow, not Join (which the community would refuse),
	// and the community's Accept completes it.
	loc := bob.post("/remote/join", url.Values{"course": {golang.IRI}})
	if !strings.Contains(loc, url.QueryEscape(golang.IRI)) {
		t.Fatalf("join redirected to %q", loc)
	}
	eventually(t, "the community's Accept to enroll bob", 20*time.Second, func() (bool, error) {
		e, err := a.courses.Enrollment(ctx, a.pool, a.user(t, "bob").ID, golang.IRI)
		return err == nil && e.State == courses.StateAccepted, nil
	})
	if f := golang.Followers(); len(f) != 1 || f[0] != bobIRI {
		t.Fatalf("community followers %v, want bob", f)
	}
	if r := golang.Refused(); len(r) != 0 {
		t.Fatalf("the community refused: %v", r)
	}
	follow := lastOfType(t, lemmy, "/c/golang/inbox", "Follow")
	if follow["object"] != golang.IRI || follow["actor"] != bobIRI {
		t.Fatalf("Follow %v", follow)
	}

	// Bob's post reaches the community addressed as FEP-1b12 and Lemmy
	// want, and comes back announced inside its Create.
	bob.post("/remote/posts", url.Values{"course": {golang.IRI}, "content": {"Hello from colearn"}})
	eventually(t, "the community to accept bob's post", 20*time.Second, func() (bool, error) {
		return len(golang.Creates()) == 1, nil
	})
	create := golang.Creates()[0]
	note, _ := create["object"].(map[string]any)
	if !addressed(create["to"], golang.IRI) || !addressed(create["cc"], peertest.Public) || !addressed(create["audience"], golang.IRI) {
		t.Errorf("Create to %v cc %v audience %v, want to the community, cc Public, audience the community", create["to"], create["cc"], create["audience"])
	}
	if note == nil || !addressed(note["audience"], golang.IRI) || !strings.Contains(note["content"].(string), "Hello from colearn") {
		t.Errorf("the post sent: %v", note)
	}

	// A post by a user of the community's server, announced embedded in its
	// Create, and one by a user of a third server, which colearn fetches
	// from there.
	adaPage := lemmyPage(lemmy.URL+"/post/1", ada.IRI, golang.IRI, "Generics in practice", "<p>Generics in practice, a write-up</p>")
	lemmy.Serve("/post/1", adaPage)
	golang.AnnounceLater(lemmyCreate(ada.IRI, adaPage, golang.IRI))
	miaNoteID := other.URL + "/notes/1"
	miaNote := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": miaNoteID, "type": "Note", "attributedTo": mia.IRI,
		"content": "<p>Mia's real words about channels</p>", "to": []string{peertest.Public}, "cc": []string{golang.IRI}, "audience": golang.IRI,
	}
	other.Serve("/notes/1", miaNote)
	embeddedMia := map[string]any{}
	for k, v := range miaNote {
		embeddedMia[k] = v
	}
	golang.AnnounceLater(lemmyCreate(mia.IRI, embeddedMia, golang.IRI))

	eventually(t, "the announced posts on bob's page for the community", 20*time.Second, func() (bool, error) {
		page := bob.page("/remote/course?iri=" + url.QueryEscape(golang.IRI))
		return strings.Contains(page, "Generics in practice, a write-up") && strings.Contains(page, "Mia&#39;s real words about channels") &&
			strings.Contains(page, "Hello from colearn"), nil
	})
	if other.Hits("/notes/1") == 0 {
		t.Errorf("the post from a third server was not fetched from its origin")
	}
	if f := golang.Failures(); len(f) != 0 {
		t.Errorf("the community's deliveries failed: %v", f)
	}

	// A forged Announce: an embedded Note claiming to be on the third
	// server, which serves something else there (nothing, then other
	// words). Only what the origin serves counts.
	forgedID := other.URL + "/notes/forged"
	forged := map[string]any{"id": forgedID, "type": "Note", "attributedTo": mia.IRI, "content": "<p>FORGED words</p>",
		"to": []string{peertest.Public}, "audience": golang.IRI}
	id, status, err := golang.Announce(ctx, a.urls.SharedInbox(), lemmyCreate(mia.IRI, forged, golang.IRI))
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("forged Announce: %d %v", status, err)
	}
	a.applied(t, id)
	if _, err := a.courses.PostByIRI(ctx, a.pool, forgedID); err == nil {
		t.Errorf("a post whose origin does not serve it was stored")
	}
	other.Serve("/notes/forged", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": forgedID, "type": "Note", "attributedTo": mia.IRI,
		"content": "<p>What mia really wrote</p>", "to": []string{peertest.Public}, "audience": golang.IRI,
	})
	id, _, _ = golang.Announce(ctx, a.urls.SharedInbox(), lemmyCreate(mia.IRI, forged, golang.IRI))
	a.applied(t, id)
	page := bob.page("/remote/course?iri=" + url.QueryEscape(golang.IRI))
	if strings.Contains(page, "FORGED") || !strings.Contains(page, "What mia really wrote") {
		t.Errorf("the forged words are shown, or the origin's are not")
	}

	// A post on the community's own origin (so believed as embedded)
	// attributed to an actor whose document there names a victim on
	// another server: the resolver follows the id to the victim, and the
	// post must not be stored under the victim's name.
	lemmy.Serve("/u/liar", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": mia.IRI, "type": "Person"})
	liarPage := lemmyPage(lemmy.URL+"/post/3", lemmy.URL+"/u/liar", golang.IRI, "Mia confesses", "<p>Words mia never wrote</p>")
	id, _, _ = golang.Announce(ctx, a.urls.SharedInbox(), lemmyCreate(lemmy.URL+"/u/liar", liarPage, golang.IRI))
	if reason := a.applied(t, id); !strings.Contains(reason, "is served as") {
		t.Errorf("a post credited through another actor's document: recorded %q", reason)
	}
	if _, err := a.courses.PostByIRI(ctx, a.pool, lemmy.URL+"/post/3"); err == nil {
		t.Errorf("a post whose author's document names someone else was stored")
	}

	// The community announces a post written for another community: it is
	// not taken as this community's (its real community could no longer
	// claim it here).
	elsewhereID := other.URL + "/notes/elsewhere"
	other.Serve("/notes/elsewhere", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": elsewhereID, "type": "Note", "attributedTo": mia.IRI,
		"content": "<p>For the Rust folks</p>", "to": []string{peertest.Public}, "audience": other.URL + "/c/rust",
	})
	id, _, _ = golang.Announce(ctx, a.urls.SharedInbox(), map[string]any{
		"id": elsewhereID + "/create", "type": "Create", "actor": mia.IRI, "object": elsewhereID,
		"to": []string{golang.IRI, peertest.Public}, "audience": golang.IRI,
	})
	if reason := a.applied(t, id); !strings.Contains(reason, "neither addressed") {
		t.Errorf("an Announce of another community's post: recorded %q", reason)
	}
	if _, err := a.courses.PostByIRI(ctx, a.pool, elsewhereID); err == nil {
		t.Errorf("a post written for another community was stored under this one")
	}

	// A community nobody here joined: its Announce changes nothing.
	rust := lemmy.NewLemmyCommunity("rust", "Rustaceans")
	rustPage := lemmyPage(lemmy.URL+"/post/2", ada.IRI, rust.IRI, "Borrowing", "<p>Borrowing explained</p>")
	lemmy.Serve("/post/2", rustPage)
	id, _, _ = rust.Announce(ctx, a.urls.SharedInbox(), lemmyCreate(ada.IRI, rustPage, rust.IRI))
	if reason := a.applied(t, id); !strings.Contains(reason, "nobody here is enrolled") {
		t.Errorf("Announce from an un-joined community: recorded %q", reason)
	}
	if _, err := a.courses.PostByIRI(ctx, a.pool, lemmy.URL+"/post/2"); err == nil {
		t.Errorf("a post announced by an un-joined community was stored")
	}

	// Leaving undoes the Follow, embedded, as Lemmy requires.
	bob.post("/remote/leave", url.Values{"course": {golang.IRI}})
	eventually(t, "the community to drop bob", 20*time.Second, func() (bool, error) {
		return len(golang.Followers()) == 0, nil
	})
	undo := lastOfType(t, lemmy, "/c/golang/inbox", "Undo")
	if obj, _ := undo["object"].(map[string]any); obj == nil || obj["id"] != follow["id"] || obj["type"] != "Follow" {
		t.Errorf("Undo of %v, want the Follow %v embedded", undo["object"], follow["id"])
	}
	if r := golang.Refused(); len(r) != 0 {
		t.Errorf("the community refused: %v", r)
	}

	// A community's Reject of the Follow ends the request: no posting.
	golang.RejectFollows(true)
	carol := signUp(t, a, "carol")
	carol.post("/remote/join", url.Values{"course": {golang.IRI}})
	eventually(t, "the community's Reject of carol", 20*time.Second, func() (bool, error) {
		e, err := a.courses.Enrollment(ctx, a.pool, a.user(t, "carol").ID, golang.IRI)
		return err == nil && e.State == "rejected", nil
	})
	resp, err := carol.c.PostForm(carol.base+"/remote/posts", url.Values{"course": {golang.IRI}, "content": {"Let me in"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(golang.Creates()) != 1 {
		t.Errorf("a rejected user posted: %d, the community has %d posts", resp.StatusCode, len(golang.Creates()))
	}
}

// lastOfType is the last activity of type typ POSTed to path on p.
func lastOfType(t *testing.T, p *peertest.Peer, path, typ string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, r := range p.Received(path) {
		var act map[string]any
		if json.Unmarshal(r.Body, &act) == nil && act["type"] == typ {
			found = act
		}
	}
	if found == nil {
		t.Fatalf("no %s received at %s", typ, path)
	}
	return found
}

// addressed reports whether an addressing property holds iri.
func addressed(v any, iri string) bool {
	switch x := v.(type) {
	case string:
		return x == iri
	case []any:
		for _, e := range x {
			if e == iri {
				return true
			}
		}
	}
	return false
}
