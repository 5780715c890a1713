package main

// A hostile peer against a real instance: internal/peertest serves crafted
// documents over loopback HTTP and signs its activities with real keys; the
// instance under test is the wiring of `colearn serve`. Every test asserts
// what a user would see: the course page, the Announces members receive,
// the roster.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
)

const asPublic = "https://www.w3.org/ns/activitystreams#Public"

// trustBed is an instance with a course, and a hostile peer whose actors
// are the course's members.
type trustBed struct {
	t         *testing.T
	in        *testInstance
	course    courses.Course
	courseIRI string
	peer      *peertest.Peer
	n         atomic.Int64
}

func newTrustBed(t *testing.T) *trustBed {
	t.Helper()
	in := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, in)
	in.createUser(t, "olga")
	c, err := in.actions.CreateCourse(t.Context(), in.user(t, "olga"), courses.CourseDraft{Slug: "trust", Title: "Trust"})
	if err != nil {
		t.Fatal(err)
	}
	return &trustBed{t: t, in: in, course: c, courseIRI: in.urls.Course(c.Slug), peer: peertest.Start(t)}
}

// id makes a fresh IRI under actor.
func (b *trustBed) id(a *peertest.Actor, kind string) string {
	return fmt.Sprintf("%s/%s/%d", a.IRI, kind, b.n.Add(1))
}

// deliver posts act, signed by a, to the course's inbox and waits until the
// instance has applied (or dropped) it; it returns the reason recorded
// when it was not applied.
func (b *trustBed) deliver(a *peertest.Actor, act map[string]any) string {
	b.t.Helper()
	b.post(a, act)
	return b.applied(act["id"].(string))
}

// post posts act to the course's inbox without waiting for it to be applied.
func (b *trustBed) post(a *peertest.Actor, act map[string]any) {
	b.t.Helper()
	status, body := a.Post(b.t.Context(), b.courseIRI+"/inbox", b.peer.JSON(act), peertest.SignOptions{})
	if status != http.StatusAccepted {
		b.t.Fatalf("%s %s: %d %s", act["type"], act["id"], status, body)
	}
}

// applied waits until the activity id has been applied and returns the
// reason recorded if it was dropped.
func (b *trustBed) applied(id string) string {
	b.t.Helper()
	var reason string
	eventually(b.t, "activity "+id+" applied", 20*time.Second, func() (bool, error) {
		var done bool
		err := b.in.pool.QueryRow(b.t.Context(), `SELECT processed_at IS NOT NULL, error FROM inbox_activities WHERE activity_id = $1`, id).Scan(&done, &reason)
		return err == nil && done, err
	})
	return reason
}

// member creates an actor on the peer and has it follow the course.
func (b *trustBed) member(name string) *peertest.Actor {
	b.t.Helper()
	a := b.peer.NewActor(name)
	b.deliver(a, a.Activity("Follow", map[string]any{"id": b.id(a, "follows"), "object": b.courseIRI, "to": []string{b.courseIRI}}))
	if !b.isMember(a) {
		b.t.Fatalf("%s is not a member after its Follow", name)
	}
	return a
}

func (b *trustBed) isMember(a *peertest.Actor) bool {
	b.t.Helper()
	m, err := b.in.courses.MemberOf(b.t.Context(), b.in.pool, b.course.ID, a.IRI)
	if errors.Is(err, courses.ErrNotFound) {
		return false
	}
	if err != nil {
		b.t.Fatal(err)
	}
	return m.State == courses.StateAccepted
}

// note is a Note by a with the given id and addressing.
func note(a *peertest.Actor, id, content string, to, cc []string) map[string]any {
	n := map[string]any{"id": id, "type": "Note", "attributedTo": a.IRI, "content": content, "to": to,
		"published": time.Now().UTC().Format(time.RFC3339)}
	if cc != nil {
		n["cc"] = cc
	}
	return n
}

// create is a Create of obj by a, addressed like obj.
func (b *trustBed) create(a *peertest.Actor, obj map[string]any) map[string]any {
	f := map[string]any{"id": b.id(a, "activities"), "object": obj, "to": obj["to"]}
	if cc, ok := obj["cc"]; ok {
		f["cc"] = cc
	}
	return a.Activity("Create", f)
}

// page is the course's public HTML page.
func (b *trustBed) page() string {
	b.t.Helper()
	status, body := b.in.get(b.t, "/courses/"+b.course.Slug, "text/html")
	if status != http.StatusOK {
		b.t.Fatalf("course page: %d", status)
	}
	return string(body)
}

// announced reports whether the course announced (or will announce)
// anything naming iri: an outbox activity is stored in the transaction that
// applied the Create, so this sees what any member will receive.
func (b *trustBed) announced(iri string) bool {
	b.t.Helper()
	var n int
	if err := b.in.pool.QueryRow(b.t.Context(), `SELECT count(*) FROM outbox_activities WHERE type = 'Announce' AND body LIKE '%' || $1 || '%'`, iri).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n > 0
}

// deliveredToPeer reports whether an Announce naming iri reached the peer.
func (b *trustBed) deliveredToPeer(iri string) bool {
	for _, r := range b.peer.Received("") {
		if strings.Contains(string(r.Body), `"Announce"`) && strings.Contains(string(r.Body), iri) {
			return true
		}
	}
	return false
}

func TestHostileObjectsHaveOwners(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	bob, mallory := b.member("bob"), b.member("mallory")
	public := []string{asPublic, b.courseIRI}

	postIRI := b.id(bob, "posts")
	if why := b.deliver(bob, b.create(bob, note(bob, postIRI, "Original words of bob", public, nil))); why != "" {
		t.Fatalf("bob's post dropped: %s", why)
	}
	eventually(t, "bob's post announced to the peer", 15*time.Second, func() (bool, error) { return b.deliveredToPeer(postIRI), nil })

	// Mallory, on the same origin and a member too, reuses the id, with
	// an updated time that would make it a newer edit.
	reuse := note(mallory, postIRI, "Mallory was here", public, nil)
	reuse["updated"] = time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	why := b.deliver(mallory, b.create(mallory, reuse))
	if !strings.Contains(why, "not allowed") {
		t.Errorf("mallory's Create of bob's post id: recorded %q, want a refusal", why)
	}
	// And tries an Update of it.
	upd := note(mallory, postIRI, "Mallory edited this", public, nil)
	upd["updated"] = time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	b.deliver(mallory, mallory.Activity("Update", map[string]any{"id": b.id(mallory, "activities"), "object": upd}))

	// A second course on the instance: mallory claims bob's post for it.
	other, err := b.in.actions.CreateCourse(t.Context(), b.in.user(t, "olga"), courses.CourseDraft{Slug: "other", Title: "Other", OpenDiscussion: true})
	if err != nil {
		t.Fatal(err)
	}
	otherIRI := b.in.urls.Course(other.Slug)
	bobAgain := note(bob, postIRI, "Bob moved it elsewhere", []string{asPublic, otherIRI}, nil)
	if why := b.deliver(bob, b.create(bob, bobAgain)); !strings.Contains(why, "not allowed") {
		t.Errorf("a cross-course reuse of the id: recorded %q, want a refusal", why)
	}

	// An author on another origin than the object: a document on the
	// peer's second origin (another port) attributed to mallory.
	elsewhere := peertest.Start(t)
	foreign := elsewhere.URL + "/posts/forged"
	elsewhere.Serve("/posts/forged", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": foreign, "type": "Note",
		"attributedTo": mallory.IRI, "content": "Forged across origins", "to": public})
	b.deliver(mallory, mallory.Activity("Create", map[string]any{"id": b.id(mallory, "activities"), "object": foreign, "to": public}))

	page := b.page()
	if !strings.Contains(page, "Original words of bob") {
		t.Errorf("the course page lost bob's post")
	}
	for _, s := range []string{"Mallory was here", "Mallory edited this", "Bob moved it elsewhere", "Forged across origins"} {
		if strings.Contains(page, s) {
			t.Errorf("the course page shows %q", s)
		}
	}
	if _, otherPage := b.in.get(t, "/courses/other", "text/html"); strings.Contains(string(otherPage), "Bob moved it") {
		t.Errorf("the other course's page shows the reused post")
	}
	p, err := b.in.post(t.Context(), postIRI)
	if err != nil || p.AuthorIRI != bob.IRI || p.CourseIRI != b.courseIRI || !strings.Contains(p.Content, "Original") {
		t.Errorf("stored post: author %s, course %s, content %q (%v)", p.AuthorIRI, p.CourseIRI, p.Content, err)
	}
	if b.announced(foreign) {
		t.Errorf("the post attributed across origins was announced")
	}
}

func TestHostilePrivatePostsStayPrivate(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	bob := b.member("bob")
	b.member("carol") // another member on the peer, to receive Announces

	direct := b.id(bob, "posts")
	followersOnly := b.id(bob, "posts")
	compact := b.id(bob, "posts")
	for _, n := range []map[string]any{
		note(bob, direct, "A direct word to the course", []string{b.courseIRI}, nil),
		note(bob, followersOnly, "Only for my followers", []string{bob.IRI + "/followers"}, []string{b.courseIRI}),
	} {
		if why := b.deliver(bob, b.create(bob, n)); !strings.Contains(why, "not addressed to the public") {
			t.Errorf("private post %s: recorded %q", n["id"], why)
		}
	}
	// The compact form of Public counts as public.
	b.deliver(bob, b.create(bob, note(bob, compact, "Public in compact form", []string{"as:Public", b.courseIRI}, nil)))
	eventually(t, "the public post's Announce at the peer", 15*time.Second, func() (bool, error) { return b.deliveredToPeer(compact), nil })

	page := b.page()
	if !strings.Contains(page, "Public in compact form") {
		t.Errorf("the public post is not on the course page")
	}
	for _, s := range []string{"A direct word", "Only for my followers"} {
		if strings.Contains(page, s) {
			t.Errorf("the course page shows the private post %q", s)
		}
	}
	for _, iri := range []string{direct, followersOnly} {
		if b.announced(iri) || b.deliveredToPeer(iri) {
			t.Errorf("the private post %s was announced", iri)
		}
		if _, err := b.in.post(t.Context(), iri); !errors.Is(err, courses.ErrNotFound) {
			t.Errorf("the private post %s is stored: %v", iri, err)
		}
	}
	_, outbox := b.in.get(t, "/courses/trust/outbox?page=1", "application/activity+json")
	if strings.Contains(string(outbox), direct) || strings.Contains(string(outbox), followersOnly) {
		t.Errorf("the course's outbox lists a private post")
	}

	// The Accept sent to bob is addressed to bob alone: not for everyone.
	var acceptID, announceID string
	if err := b.in.pool.QueryRow(t.Context(), `SELECT id FROM outbox_activities WHERE type = 'Accept' AND body LIKE '%' || $1 || '%'`, bob.IRI).Scan(&acceptID); err != nil {
		t.Fatal(err)
	}
	if err := b.in.pool.QueryRow(t.Context(), `SELECT id FROM outbox_activities WHERE type = 'Announce' LIMIT 1`).Scan(&announceID); err != nil {
		t.Fatal(err)
	}
	path := func(iri string) string { return strings.TrimPrefix(iri, "http://"+b.in.addr) }
	if status, body := b.in.get(t, path(acceptID), "application/activity+json"); status != http.StatusNotFound {
		t.Errorf("unauthenticated GET of the Accept: %d %s", status, body)
	}
	if status, _ := b.in.get(t, path(announceID), "application/activity+json"); status != http.StatusOK {
		t.Errorf("GET of a public Announce: %d", status)
	}
}

func TestHostileOrderDoesNotMatter(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	bob := b.member("bob")
	public := []string{asPublic, b.courseIRI}

	// Delete first, then the Create it deletes.
	gone := b.id(bob, "posts")
	b.deliver(bob, bob.Activity("Delete", map[string]any{"id": b.id(bob, "activities"), "object": gone}))
	if why := b.deliver(bob, b.create(bob, note(bob, gone, "Deleted before it came", public, nil))); why == "" {
		t.Errorf("the Create after its Delete was applied")
	}
	// A Create by IRI of a tombstoned id costs no fetch.
	goneByIRI := b.id(bob, "posts")
	b.peer.Serve(b.peer.Path(goneByIRI), note(bob, goneByIRI, "Fetched though deleted", public, nil))
	b.deliver(bob, bob.Activity("Delete", map[string]any{"id": b.id(bob, "activities"), "object": goneByIRI}))
	b.deliver(bob, bob.Activity("Create", map[string]any{"id": b.id(bob, "activities"), "object": goneByIRI, "to": public}))
	if hits := b.peer.Hits(b.peer.Path(goneByIRI)); hits != 0 {
		t.Errorf("the tombstoned object was fetched %d times", hits)
	}
	// Create, then Delete.
	later := b.id(bob, "posts")
	b.deliver(bob, b.create(bob, note(bob, later, "Deleted after it came", public, nil)))
	b.deliver(bob, bob.Activity("Delete", map[string]any{"id": b.id(bob, "activities"), "object": later}))
	// Update before Create: the edit wins.
	edited := b.id(bob, "posts")
	v2 := note(bob, edited, "Second version", public, nil)
	v2["updated"] = time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	b.deliver(bob, bob.Activity("Update", map[string]any{"id": b.id(bob, "activities"), "object": v2, "to": public}))
	b.deliver(bob, b.create(bob, note(bob, edited, "First version", public, nil)))

	page := b.page()
	for _, s := range []string{"Deleted before it came", "Deleted after it came", "First version"} {
		if strings.Contains(page, s) {
			t.Errorf("the course page shows %q", s)
		}
	}
	if !strings.Contains(page, "Second version") {
		t.Errorf("the course page lacks the edit that came before its Create")
	}
	if b.announced(gone) {
		t.Errorf("the Create after its Delete was announced")
	}
	if p, err := b.in.post(t.Context(), later); err != nil || !p.Deleted {
		t.Errorf("the post deleted after its Create: %+v, %v", p, err)
	}

	// Undo(Follow) first, then the Follow.
	dora := b.peer.NewActor("dora")
	follow := dora.Activity("Follow", map[string]any{"id": b.id(dora, "follows"), "object": b.courseIRI, "to": []string{b.courseIRI}})
	b.deliver(dora, dora.Activity("Undo", map[string]any{"id": b.id(dora, "activities"), "object": follow, "to": []string{b.courseIRI}}))
	b.deliver(dora, follow)
	if b.isMember(dora) {
		t.Errorf("dora is enrolled after Undo(Follow) then Follow")
	}

	// Leave first, then the Join sent before it (both dated).
	erin := b.peer.NewActor("erin")
	sent := time.Now().Add(-time.Minute).UTC()
	join := erin.Activity("Join", map[string]any{"id": b.id(erin, "joins"), "object": b.courseIRI, "to": []string{b.courseIRI},
		"published": sent.Format(time.RFC3339)})
	b.deliver(erin, erin.Activity("Leave", map[string]any{"id": b.id(erin, "activities"), "object": b.courseIRI, "to": []string{b.courseIRI},
		"published": sent.Add(10 * time.Second).Format(time.RFC3339)}))
	b.deliver(erin, join)
	if b.isMember(erin) {
		t.Errorf("erin is enrolled after Leave then the older Join")
	}
	// Undated, as colearn sends them: the Join after an early Leave is the
	// one it undid; a Join after that is a new one.
	fay := b.peer.NewActor("fay")
	b.deliver(fay, fay.Activity("Leave", map[string]any{"id": b.id(fay, "activities"), "object": b.courseIRI, "to": []string{b.courseIRI}}))
	b.deliver(fay, fay.Activity("Join", map[string]any{"id": b.id(fay, "joins"), "object": b.courseIRI, "to": []string{b.courseIRI}}))
	if b.isMember(fay) {
		t.Errorf("fay is enrolled after an undated Leave then Join")
	}
	b.deliver(fay, fay.Activity("Join", map[string]any{"id": b.id(fay, "joins"), "object": b.courseIRI, "to": []string{b.courseIRI}}))
	if !b.isMember(fay) {
		t.Errorf("fay's later Join did not enroll her")
	}
}

func TestHostilePeerCannotStallOthers(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	mallory := b.member("mallory")
	public := []string{asPublic, b.courseIRI}
	// Thirty Creates whose objects never answer.
	for i := range 30 {
		path := fmt.Sprintf("/users/mallory/posts/hang-%d", i)
		b.peer.Handle(path, peertest.Response{Delay: time.Hour})
		b.post(mallory, mallory.Activity("Create", map[string]any{"id": b.id(mallory, "activities"), "object": b.peer.URL + path, "to": public}))
	}
	eventually(t, "the instance fetching mallory's objects", 10*time.Second, func() (bool, error) {
		return b.peer.Hits("/users/mallory/posts/hang-0") > 0, nil
	})

	// A third actor on another server follows: accepted within seconds.
	other := peertest.Start(t)
	carol := other.NewActor("carol")
	follow := carol.Activity("Follow", map[string]any{"id": b.id(carol, "follows"), "object": b.courseIRI, "to": []string{b.courseIRI}})
	start := time.Now()
	b.post(carol, follow)
	eventually(t, "carol's Accept", 5*time.Second, func() (bool, error) {
		for _, r := range other.Received("") {
			if strings.Contains(string(r.Body), `"Accept"`) && strings.Contains(string(r.Body), follow["id"].(string)) {
				return true, nil
			}
		}
		return false, nil
	})
	t.Logf("carol's Follow accepted after %s while 30 of mallory's fetches hang", time.Since(start).Round(time.Millisecond))
	if !b.isMember(carol) {
		t.Errorf("carol is not a member")
	}
}

// TestHostileHostGetsOnlyItsShare: thirty actors of one server each send a
// Create whose object hangs, more than there are workers. The server gets
// its share of the fetch budget, not every worker: a Follow from another
// server is accepted within seconds.
func TestHostileHostGetsOnlyItsShare(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	public := []string{asPublic, b.courseIRI}
	var sybils []*peertest.Actor
	for i := range 30 {
		sybils = append(sybils, b.member(fmt.Sprintf("sybil%d", i)))
	}
	for i, a := range sybils {
		path := fmt.Sprintf("/users/sybil%d/posts/hang", i)
		b.peer.Handle(path, peertest.Response{Delay: time.Hour})
		b.post(a, a.Activity("Create", map[string]any{"id": b.id(a, "activities"), "object": b.peer.URL + path, "to": public}))
	}
	eventually(t, "the instance fetching the hanging objects", 10*time.Second, func() (bool, error) {
		return b.peer.Hits("/users/sybil0/posts/hang")+b.peer.Hits("/users/sybil1/posts/hang") > 0, nil
	})
	other := peertest.Start(t)
	carol := other.NewActor("carol")
	follow := carol.Activity("Follow", map[string]any{"id": b.id(carol, "follows"), "object": b.courseIRI, "to": []string{b.courseIRI}})
	start := time.Now()
	b.post(carol, follow)
	eventually(t, "carol's Accept", 3*time.Second, func() (bool, error) {
		for _, r := range other.Received("") {
			if strings.Contains(string(r.Body), `"Accept"`) && strings.Contains(string(r.Body), follow["id"].(string)) {
				return true, nil
			}
		}
		return false, nil
	})
	t.Logf("carol's Follow accepted after %s while 30 actors of one server wait on hanging fetches", time.Since(start).Round(time.Millisecond))
}

func TestModeratorCannotBlockOwnerOrModerators(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := newTrustBed(t)
	for _, name := range []string{"lena", "max"} {
		b.in.createUser(t, name)
		if _, err := b.in.actions.Enroll(ctx, b.in.user(t, name), b.course); err != nil {
			t.Fatal(err)
		}
		if err := b.in.courses.SetRole(ctx, b.in.pool, b.course.ID, b.in.urls.User(name), courses.RoleModerator, b.in.urls.User("olga")); err != nil {
			t.Fatal(err)
		}
	}
	lena := b.in.user(t, "lena")
	for _, target := range []string{"olga", "max"} {
		if err := b.in.actions.Block(ctx, lena, b.course, b.in.urls.User(target)); !errors.Is(err, courses.ErrForbidden) {
			t.Errorf("moderator lena blocking %s: %v, want ErrForbidden", target, err)
		}
	}
	roles := map[string]string{}
	members, err := b.in.courses.Members(ctx, b.in.pool, b.course.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		roles[m.ActorIRI] = m.Role + "/" + m.State
	}
	if roles[b.in.urls.User("olga")] != "owner/accepted" || roles[b.in.urls.User("max")] != "moderator/accepted" {
		t.Errorf("roster after the refused blocks: %v", roles)
	}
	// The owner may still block a moderator.
	if err := b.in.actions.Block(ctx, b.in.user(t, "olga"), b.course, b.in.urls.User("max")); err != nil {
		t.Errorf("the owner blocking a moderator: %v", err)
	}
}

// TestHostileUndoOfAnothersFollow: an Undo ends only its own actor's
// membership. Eve, on bob's server and on another, names bob's Follow by
// id and embeds a Follow that claims to be bob's; bob stays a member until
// he undoes it himself.
func TestHostileUndoOfAnothersFollow(t *testing.T) {
	t.Parallel()
	b := newTrustBed(t)
	bob := b.peer.NewActor("bob")
	follow := bob.Activity("Follow", map[string]any{"id": b.id(bob, "follows"), "object": b.courseIRI, "to": []string{b.courseIRI}})
	b.deliver(bob, follow)
	if !b.isMember(bob) {
		t.Fatal("bob is not a member after his Follow")
	}
	elsewhere := peertest.Start(t)
	for _, eve := range []*peertest.Actor{b.peer.NewActor("eve"), elsewhere.NewActor("eve")} {
		byID := eve.Activity("Undo", map[string]any{"id": b.id(eve, "activities"), "object": follow["id"], "to": []string{b.courseIRI}})
		claimed := map[string]any{"id": follow["id"], "type": "Follow", "actor": bob.IRI, "object": b.courseIRI}
		embedded := eve.Activity("Undo", map[string]any{"id": b.id(eve, "activities"), "object": claimed, "to": []string{b.courseIRI}})
		for _, undo := range []map[string]any{byID, embedded} {
			status, body := eve.Post(t.Context(), b.courseIRI+"/inbox", elsewhere.JSON(undo), peertest.SignOptions{})
			if status != http.StatusAccepted {
				t.Fatalf("eve's Undo: %d %s", status, body)
			}
			b.applied(undo["id"].(string))
			if !b.isMember(bob) {
				t.Fatalf("eve (%s) ended bob's membership with %v", eve.IRI, undo["object"])
			}
		}
	}
	b.deliver(bob, bob.Activity("Undo", map[string]any{"id": b.id(bob, "activities"), "object": follow, "to": []string{b.courseIRI}}))
	if b.isMember(bob) {
		t.Errorf("bob is still a member after his own Undo(Follow)")
	}
}
