package main

// Hostile co-hosts: who may become one, and what ends it.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/peertest"
)

// cohostFixture is a course on A and what the test reads back of it.
type cohostFixture struct {
	a         *testInstance
	course    courses.Course
	courseIRI string
}

// instanceActor publishes an actor of type typ on p (an instance actor when
// typ is Application).
func instanceActor(p *peertest.Peer, name, typ string) *peertest.Actor {
	act := p.NewActor(name)
	act.Doc["type"] = typ
	p.Publish(act)
	return act
}

// follow sends act's Follow of the course and waits until it is applied.
func (f cohostFixture) follow(t *testing.T, p *peertest.Peer, act *peertest.Actor) string {
	t.Helper()
	id := sendAs(t, p, act, f.courseIRI+"/inbox", act.Activity("Follow", map[string]any{"object": f.courseIRI}))
	appliedActivity(t, f.a, id)
	return id
}

// cohosts lists the instance actors in course_cohosts for the course.
func (f cohostFixture) cohosts(t *testing.T) []string {
	t.Helper()
	cs, err := f.a.courses.CohostsOf(t.Context(), f.a.pool, f.course.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.InstanceIRI)
	}
	return out
}

// shown reports whether the course page or the course document name host
// or iri as co-host.
func (f cohostFixture) shown(t *testing.T, host, iri string) (page, doc bool) {
	t.Helper()
	_, body := f.a.get(t, "/courses/"+f.course.Slug, "text/html")
	var d struct {
		CohostedBy []string `json:"colearn:cohostedBy"`
	}
	_, raw := f.a.get(t, "/courses/"+f.course.Slug, federation.ContentTypeActivity)
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("course document: %v", err)
	}
	for _, c := range d.CohostedBy {
		doc = doc || c == iri
	}
	return strings.Contains(string(body), host), doc
}

// answered waits for an Accept or Reject (typ) to reach act's inbox.
func answered(t *testing.T, p *peertest.Peer, act *peertest.Actor, typ string) {
	t.Helper()
	eventually(t, typ+" to "+act.IRI, 20*time.Second, func() (bool, error) {
		for _, r := range p.Received(p.Path(act.IRI) + "/inbox") {
			var got struct{ Type string }
			if json.Unmarshal(r.Body, &got) == nil && got.Type == typ {
				return true, nil
			}
		}
		return false, nil
	})
}

// deliveryJobsTo counts the delivery jobs naming inbox.
func deliveryJobsTo(t *testing.T, ti *testInstance, inbox string) int {
	t.Helper()
	var n int
	if err := ti.pool.QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind IN ('outbox_delivery', 'outbox_delivery_set') AND args::text LIKE '%"' || $1 || '"%'`,
		inbox).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCohostHostileFollows(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, a)
	a.createUser(t, "olga")
	olga := a.user(t, "olga")
	course, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go"})
	if err != nil {
		t.Fatal(err)
	}
	f := cohostFixture{a: a, course: course, courseIRI: a.urls.Course(course.Slug)}

	evil := peertest.Start(t)
	blocked := instanceActor(evil, "blocked", "Application")
	bot := instanceActor(evil, "bot", "Service")
	inst := instanceActor(evil, "actor", "Application")
	second := instanceActor(evil, "second", "Application")

	// An instance actor blocked in the course is refused, nothing recorded.
	if err := a.actions.Block(ctx, olga, course, blocked.IRI); err != nil {
		t.Fatal(err)
	}
	f.follow(t, evil, blocked)
	answered(t, evil, blocked, "Reject")
	if cs := f.cohosts(t); len(cs) != 0 {
		t.Fatalf("co-hosts after a blocked actor's Follow: %v", cs)
	}
	// A Service (a Mastodon bot) follows as a learner, not as a co-host.
	f.follow(t, evil, bot)
	if m, err := a.courses.MemberOf(ctx, a.pool, course.ID, bot.IRI); err != nil || m.State != courses.StateAccepted {
		t.Fatalf("the Service's Follow did not enroll a learner: %+v %v", m, err)
	}
	if cs := f.cohosts(t); len(cs) != 0 {
		t.Fatalf("co-hosts after a Service's Follow: %v", cs)
	}
	// One instance actor of the host co-hosts; a second one is refused.
	f.follow(t, evil, inst)
	answered(t, evil, inst, "Accept")
	f.follow(t, evil, second)
	answered(t, evil, second, "Reject")
	if cs := f.cohosts(t); len(cs) != 1 || cs[0] != inst.IRI {
		t.Fatalf("co-hosts after two instance actors of one host: %v, want only %s", cs, inst.IRI)
	}
	if page, doc := f.shown(t, evil.Host, inst.IRI); !page || !doc {
		t.Fatalf("the accepted co-host is not shown: page %v, cohostedBy %v", page, doc)
	}

	// A co-host Follow whose Undo overtook it records nothing.
	late := peertest.Start(t)
	lateActor := instanceActor(late, "actor", "Application")
	follow := lateActor.Activity("Follow", map[string]any{"object": f.courseIRI})
	appliedActivity(t, a, sendAs(t, late, lateActor, f.courseIRI+"/inbox", lateActor.Activity("Undo", map[string]any{"object": follow})))
	appliedActivity(t, a, sendAs(t, late, lateActor, f.courseIRI+"/inbox", follow))
	if cs := f.cohosts(t); len(cs) != 1 {
		t.Fatalf("co-hosts after a Follow its Undo overtook: %v", cs)
	}

	// Three honest co-hosts, for the other ways co-hosting ends and as the
	// control that fan-outs happen.
	var peers []*peertest.Peer
	var actors []*peertest.Actor
	for range 3 {
		p := peertest.Start(t)
		act := instanceActor(p, "actor", "Application")
		f.follow(t, p, act)
		answered(t, p, act, "Accept")
		peers, actors = append(peers, p), append(actors, act)
	}
	if cs := f.cohosts(t); len(cs) != 4 {
		t.Fatalf("co-hosts: %v, want 4", cs)
	}

	// A domain block of the evil host ends its co-hosting; its Follows
	// are refused at the door from then on.
	if _, _, err := a.actions.BlockDomain(ctx, "cli", evil.Host, "spam"); err != nil {
		t.Fatal(err)
	}
	if status, _ := inst.Post(ctx, f.courseIRI+"/inbox", evil.JSON(inst.Activity("Follow", map[string]any{"object": f.courseIRI})), peertest.SignOptions{}); status != http.StatusForbidden {
		t.Errorf("a Follow from the blocked host: %d, want 403", status)
	}
	// A course block of the first honest co-host ends its co-hosting.
	if err := a.actions.Block(ctx, olga, course, actors[0].IRI); err != nil {
		t.Fatal(err)
	}
	// The second deletes itself (its origin says 410).
	peers[1].Handle(peers[1].Path(actors[1].IRI), peertest.Response{Status: http.StatusGone, Body: []byte(`{"type":"Tombstone"}`)})
	del := sendAs(t, peers[1], actors[1], f.courseIRI+"/inbox", actors[1].Activity("Delete", map[string]any{"object": actors[1].IRI}))
	if reason := appliedActivity(t, a, del); reason != "" {
		t.Fatalf("the co-host's Delete: %s", reason)
	}
	// The third's shared inbox is gone: the next delivery ends it.
	peers[2].Handle("/inbox", peertest.Response{Status: http.StatusGone})
	if cs := f.cohosts(t); len(cs) != 1 || cs[0] != actors[2].IRI {
		t.Fatalf("co-hosts after the domain block, course block and Delete: %v, want only %s", cs, actors[2].IRI)
	}
	if _, err := a.actions.Announce(ctx, olga, course, "Still there?"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the gone co-host removed", 20*time.Second, func() (bool, error) {
		return len(f.cohosts(t)) == 0, nil
	})
	// The Announce's fan-out went to the third (the control) and to none
	// of the co-hosts removed before it.
	if n := deliveryJobsTo(t, a, peers[2].URL+"/inbox"); n == 0 {
		t.Fatalf("no delivery job to the third co-host's shared inbox")
	}
	for _, p := range []*peertest.Peer{evil, peers[0], peers[1]} {
		if n := deliveryJobsTo(t, a, p.URL+"/inbox"); n != 0 {
			t.Errorf("%d delivery jobs to the removed co-host %s", n, p.Host)
		}
	}
	for _, x := range []struct {
		host, iri string
	}{{evil.Host, inst.IRI}, {peers[0].Host, actors[0].IRI}, {peers[1].Host, actors[1].IRI}, {peers[2].Host, actors[2].IRI}} {
		if page, doc := f.shown(t, x.host, x.iri); page || doc {
			t.Errorf("%s still shown as co-host: page %v, cohostedBy %v", x.iri, page, doc)
		}
	}
}
