package main

// Every id colearn emits can be fetched: starting from a course, a user, a
// post, a lesson, the syllabus and the instance actor, every IRI of this
// instance found in their documents (and in the documents those lead to)
// answers a GET asking for ActivityStreams with 200. With authorized fetch
// on, outboxes and activities need a signature too.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/peertest"
)

// fetchableBed is an instance with one of everything: a tagged course with
// a member, a lesson and a post, returning the seeds of a crawl.
func fetchableBed(t *testing.T, opts testInstanceOptions) (*testInstance, []string) {
	t.Helper()
	ctx := t.Context()
	a := startInstance(t, opts)
	a.createUser(t, "olga")
	a.createUser(t, "ben")
	olga := a.user(t, "olga")
	c, err := a.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "intro-go", Title: "Intro to Go", Summary: "Go.", Tags: []string{"go", "beginners"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.actions.Enroll(ctx, a.user(t, "ben"), c); err != nil {
		t.Fatal(err)
	}
	m, err := a.actions.AddModule(ctx, olga, c, courses.ModuleDraft{Title: "Types", Summary: "What a type is.", Body: "Every value has a **type**.", EstimatedMinutes: 30})
	if err != nil {
		t.Fatal(err)
	}
	courseIRI := a.urls.Course(c.Slug)
	p, err := a.actions.Post(ctx, a.user(t, "ben"), courseIRI, "Hello, #go learners", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.actions.Announce(ctx, olga, c, "Welcome!"); err != nil {
		t.Fatal(err)
	}
	return a, []string{
		a.urls.InstanceActor(), a.urls.User("olga"), a.urls.User("ben"), courseIRI, p.IRI,
		a.urls.Module(c.Slug, m.ID), a.urls.Syllabus(c.Slug), courseIRI + "/outbox",
	}
}

// localIRIs collects every string in doc that is an IRI of base, without
// its fragment.
func localIRIs(v any, base string, out map[string]bool) {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, base+"/") || x == base {
			iri, _, _ := strings.Cut(x, "#")
			out[iri] = true
		}
	case []any:
		for _, e := range x {
			localIRIs(e, base, out)
		}
	case map[string]any:
		for k, e := range x {
			if k != "@context" {
				localIRIs(e, base, out)
			}
		}
	}
}

// crawl GETs every seed and every local IRI reachable from them with
// Accept: application/activity+json (through get), and returns each IRI's
// status and the document it was found in.
func crawl(t *testing.T, base string, seeds []string, get func(iri string) (int, []byte)) (status map[string]int, foundIn map[string]string) {
	t.Helper()
	status, foundIn = map[string]int{}, map[string]string{}
	queue := append([]string{}, seeds...)
	for _, s := range seeds {
		foundIn[s] = "the seeds"
	}
	for len(queue) > 0 && len(status) < 400 {
		iri := queue[0]
		queue = queue[1:]
		if _, done := status[iri]; done {
			continue
		}
		code, body := get(iri)
		status[iri] = code
		var doc any
		if code != http.StatusOK || json.Unmarshal(body, &doc) != nil {
			continue
		}
		found := map[string]bool{}
		localIRIs(doc, base, found)
		for f := range found {
			if _, seen := foundIn[f]; !seen {
				foundIn[f] = iri
				queue = append(queue, f)
			}
		}
	}
	return status, foundIn
}

func TestEveryEmittedIDCanBeFetched(t *testing.T) {
	t.Parallel()
	a, seeds := fetchableBed(t, testInstanceOptions{})
	base := a.urls.Base()
	status, foundIn := crawl(t, base, seeds, func(iri string) (int, []byte) {
		return get(t, iri)
	})
	for _, want := range []string{
		base + "/tags/go", base + "/tags/beginners", base + "/inbox",
		a.urls.InstanceActor() + "/inbox", a.urls.InstanceActor() + "/outbox",
		a.urls.InstanceActor() + "/followers", a.urls.InstanceActor() + "/following",
		a.urls.User("olga") + "/inbox", a.urls.Course("intro-go") + "/inbox", a.urls.Course("intro-go") + "/modules",
	} {
		if _, ok := status[want]; !ok {
			t.Errorf("the crawl never met %s", want)
		}
	}
	activities := 0
	for iri, code := range status {
		if code != http.StatusOK {
			t.Errorf("GET %s (found in %s): %d, want 200", iri, foundIn[iri], code)
		}
		if strings.HasPrefix(iri, base+"/activities/") {
			activities++
		}
	}
	if activities == 0 {
		t.Errorf("the crawl met no activity id")
	}
	t.Logf("fetched %d ids", len(status))

	// The tag's collection lists the course; its page shows it to browsers.
	_, body := get(t, base+"/tags/go")
	var tag struct {
		ID           string   `json:"id"`
		Type         string   `json:"type"`
		TotalItems   int      `json:"totalItems"`
		OrderedItems []string `json:"orderedItems"`
	}
	if err := json.Unmarshal(body, &tag); err != nil || tag.ID != base+"/tags/go" || tag.Type != "OrderedCollection" ||
		tag.TotalItems != 1 || len(tag.OrderedItems) != 1 || tag.OrderedItems[0] != a.urls.Course("intro-go") {
		t.Errorf("tag collection: %s", body)
	}
	code, html := a.get(t, "/tags/go", "text/html")
	if code != http.StatusOK || !strings.Contains(string(html), `href="/courses/intro-go"`) {
		t.Errorf("tag page: %d, lists the course: %v", code, strings.Contains(string(html), `href="/courses/intro-go"`))
	}
	if _, body := get(t, base+"/tags/rust"); !strings.Contains(string(body), `"totalItems":0`) {
		t.Errorf("an unused tag: %s", body)
	}
	if code, _ := get(t, base+"/tags/no%20such"); code != http.StatusNotFound {
		t.Errorf("a name no tag can have: %d, want 404", code)
	}
}

func TestAuthorizedFetchCoversOutboxesAndActivities(t *testing.T) {
	t.Parallel()
	a, seeds := fetchableBed(t, testInstanceOptions{AuthorizedFetch: true})
	base := a.urls.Base()
	peer := peertest.Start(t)
	reader := peer.NewActor("reader")
	signed := func(iri string) (int, []byte) {
		code, body := reader.Get(t.Context(), iri, peertest.SignOptions{})
		return code, []byte(body)
	}
	// Every id answers a signed GET.
	status, foundIn := crawl(t, base, seeds, signed)
	var outboxes, activities []string
	for iri, code := range status {
		if code != http.StatusOK {
			t.Errorf("signed GET %s (found in %s): %d, want 200", iri, foundIn[iri], code)
		}
		path, _, _ := strings.Cut(strings.TrimPrefix(iri, base), "?")
		switch {
		case strings.HasPrefix(path, "/activities/"):
			activities = append(activities, iri)
		case strings.HasSuffix(path, "/outbox") && path != "/actor/outbox":
			outboxes = append(outboxes, iri)
		}
	}
	if len(outboxes) < 2 || len(activities) == 0 {
		t.Fatalf("the crawl met outboxes %v and activities %v", outboxes, activities)
	}
	// Unsigned, they are refused; the instance actor and its outbox stay
	// public.
	for _, iri := range append(outboxes, activities...) {
		if code, body := get(t, iri); code != http.StatusUnauthorized {
			t.Errorf("unsigned GET %s: %d %s, want 401", iri, code, body)
		}
	}
	for _, iri := range []string{a.urls.InstanceActor(), a.urls.InstanceActor() + "/outbox"} {
		if code, _ := get(t, iri); code != http.StatusOK {
			t.Errorf("unsigned GET %s: %d, want 200", iri, code)
		}
	}
	// A signed outbox answer is not for shared caches.
	req, _ := http.NewRequest(http.MethodGet, outboxes[0], nil)
	req.Header.Set("Accept", federation.ContentTypeActivity)
	reader.Sign(req, nil, peertest.SignOptions{})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Errorf("signed outbox answered with Cache-Control %q", cc)
	}
}
