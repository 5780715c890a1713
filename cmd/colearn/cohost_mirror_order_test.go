package main

// The co-host's mirror against a course (a scripted peer) whose activities
// arrive out of order, or that sends more modules than a refetch takes.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/peertest"
	"github.com/colearn/colearn/outbox"
)

// peerCourse publishes a Group on p with an empty syllabus and has b
// co-host it; it returns the course actor.
func peerCourse(t *testing.T, b *testInstance, p *peertest.Peer) *peertest.Actor {
	t.Helper()
	course := p.NewActor("course")
	course.Doc["type"] = "Group"
	course.Doc["name"] = "Peer course"
	course.Doc["modules"] = course.IRI + "/modules"
	p.Publish(course)
	p.Serve(p.Path(course.IRI)+"/modules", map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": course.IRI + "/modules", "type": "OrderedCollection", "totalItems": 0, "orderedItems": []string{}})
	if _, err := b.actions.Cohost(t.Context(), "admin", course.IRI); err != nil {
		t.Fatal(err)
	}
	return course
}

// moduleActivity is the course's Create or Update of module n at a
// revision, as colearn sends it.
func moduleActivity(course *peertest.Actor, typ string, n, revision int, updated time.Time, title string) map[string]any {
	return course.Activity(typ, map[string]any{"object": map[string]any{
		"id": fmt.Sprintf("%s/modules/%d", course.IRI, n), "type": "Article", "context": course.IRI, "attributedTo": course.IRI,
		"name": title, "content": "<p>" + title + "</p>", "position": n, "revision": revision,
		"updated": updated.UTC().Format(time.RFC3339), "source": map[string]any{"content": title, "mediaType": "text/markdown"}}})
}

func TestCohostMirrorKeepsOrder(t *testing.T) {
	t.Parallel()
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, b)
	p := peertest.Start(t)
	course := peerCourse(t, b, p)
	send := func(act map[string]any) { appliedActivity(t, b, sendAs(t, p, course, b.urls.SharedInbox(), act)) }
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)

	// Module 1: created, edited twice; the first edit arrives last (a
	// retry), and a same-revision copy stamped earlier arrives too.
	send(moduleActivity(course, "Create", 1, 1, t0, "Rev one"))
	send(moduleActivity(course, "Update", 1, 3, t0.Add(3*time.Minute), "Rev three"))
	send(moduleActivity(course, "Update", 1, 2, t0.Add(2*time.Minute), "Rev two"))
	send(moduleActivity(course, "Update", 1, 3, t0.Add(time.Minute), "Rev three earlier"))
	// Module 2: its Delete overtakes its Create.
	m2 := fmt.Sprintf("%s/modules/%d", course.IRI, 2)
	send(course.Activity("Delete", map[string]any{"object": m2}))
	send(moduleActivity(course, "Create", 2, 1, t0, "Resurrected"))
	// Module 3: created, deleted, then a late retry of its Create.
	send(moduleActivity(course, "Create", 3, 1, t0, "Deleted three"))
	send(course.Activity("Delete", map[string]any{"object": fmt.Sprintf("%s/modules/%d", course.IRI, 3)}))
	send(moduleActivity(course, "Create", 3, 1, t0, "Deleted three"))

	mods := b.mirrorModules(t, course.IRI)
	if len(mods) != 1 || mods[0].Title != "Rev three" || mods[0].Revision != 3 {
		t.Fatalf("mirror: %+v, want module 1 at revision 3 only", mods)
	}
	status, page := b.get(t, "/cohosted?iri="+url.QueryEscape(course.IRI), "text/html")
	if status != http.StatusOK || !strings.Contains(string(page), "Rev three") {
		t.Fatalf("the co-hosted course page: %d\n%s", status, page)
	}
	for _, gone := range []string{"Rev two", "Rev three earlier", "Resurrected", "Deleted three"} {
		if strings.Contains(string(page), gone) {
			t.Errorf("the course page shows %q", gone)
		}
	}
}

// A course's Creates do not grow the mirror past what a refetch would take.
func TestCohostMirrorIsBounded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, b)
	p := peertest.Start(t)
	course := peerCourse(t, b, p)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	n := outbox.MaxMirroredModules + 5
	ids := make([]string, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				act := moduleActivity(course, "Create", i+1, 1, t0, fmt.Sprintf("Module %d", i+1))
				act["id"] = fmt.Sprintf("%s/activities/create-%d", course.IRI, i+1)
				ids[i] = act["id"].(string)
				if status, body := course.Post(context.Background(), b.urls.SharedInbox(), p.JSON(act), peertest.SignOptions{}); status != http.StatusAccepted {
					t.Errorf("Create %d: %d %s", i+1, status, body)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	eventually(t, "every Create applied", 120*time.Second, func() (bool, error) {
		var pending int
		err := b.pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE activity_id = ANY($1) AND processed_at IS NULL`, ids).Scan(&pending)
		var seen int
		if err == nil {
			err = b.pool.QueryRow(ctx, `SELECT count(*) FROM inbox_activities WHERE activity_id = ANY($1)`, ids).Scan(&seen)
		}
		return pending == 0 && seen == n, err
	})
	if mods := b.mirrorModules(t, course.IRI); len(mods) != outbox.MaxMirroredModules {
		t.Fatalf("mirror holds %d modules after %d Creates, want %d", len(mods), n, outbox.MaxMirroredModules)
	}
	// A module already mirrored may still be updated.
	appliedActivity(t, b, sendAs(t, p, course, b.urls.SharedInbox(), moduleActivity(course, "Update", 1, 2, t0.Add(time.Minute), "Module one, edited")))
	if mods := b.mirrorModules(t, course.IRI); len(mods) != outbox.MaxMirroredModules || mods[0].Title != "Module one, edited" {
		t.Fatalf("the edit of a mirrored module: %d modules, first %q", len(mods), mods[0].Title)
	}
}

// A browsed catalogue describes only the courses on its own origin, and a
// page gives at most a page's worth of them.
func TestCohostBrowsedCatalogueSpeaksForItsOrigin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := startInstance(t, testInstanceOptions{})
	dumpOnFailure(t, b)
	if _, err := createAccount(ctx, b.pool, b.keys, courses.NewUser{Username: "ada", Password: "correct horse battery staple", IsAdmin: true}, b.courses.CreateUser); err != nil {
		t.Fatal(err)
	}
	other := peertest.Start(t)
	known := peerCourse(t, b, other) // co-hosted here: its name is what b fetched
	cat := peertest.Start(t)
	invented := "http://127.0.0.1:9/courses/invented"
	item := func(id, name, summary string) map[string]any {
		return map[string]any{"id": id, "type": "Group", "name": name, "summary": summary, "language": "en",
			"tag": []map[string]any{{"type": "Hashtag", "name": "#lies"}}}
	}
	items := []any{item(invented, "Invented course", "<p>Invented summary</p>"), item(known.IRI, "Renamed by the catalogue", "<p>Also invented</p>")}
	for i := 1; i <= 60; i++ {
		items = append(items, item(fmt.Sprintf("%s/courses/own-%d", cat.URL, i), fmt.Sprintf("Own course %d", i), "<p>Honest</p>"))
	}
	page := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": cat.URL + "/catalogue?page=1",
		"type": "OrderedCollectionPage", "partOf": cat.URL + "/catalogue", "orderedItems": items}
	cat.HandleFunc("/catalogue", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.Header().Set("Content-Type", peertest.ActivityJSON)
		if r.URL.RawQuery == "page=1" {
			w.Write(cat.JSON(page))
			return
		}
		w.Write(cat.JSON(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": cat.URL + "/catalogue",
			"type": "OrderedCollection", "totalItems": len(items), "first": cat.URL + "/catalogue?page=1"}))
	})

	status, body := getPage(t, b.signedIn(t, "ada"), "http://"+b.addr+"/admin/cohost?browse="+url.QueryEscape(cat.Host))
	if status != http.StatusOK {
		t.Fatalf("browse: %d\n%s", status, body)
	}
	for _, want := range []string{`data-iri="` + invented + `"`, "listed by " + cat.Host, "Peer course", "Own course 1<", "Own course 48<", "Honest"} {
		if !strings.Contains(body, want) {
			t.Errorf("the browsed catalogue lacks %q", want)
		}
	}
	for _, lose := range []string{"Invented course", "Invented summary", "Renamed by the catalogue", "Also invented", "Own course 49<"} {
		if strings.Contains(body, lose) {
			t.Errorf("the browsed catalogue shows %q", lose)
		}
	}
	if n := strings.Count(body, `class="course-card"`); n != 50 {
		t.Errorf("%d courses shown from a page of %d, want 50", n, len(items))
	}
}
