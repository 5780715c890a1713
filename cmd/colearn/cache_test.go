package main

// Tests of the document cache as peers and browsers meet it: every kind of
// change is visible on the very next fetch of every document and page that
// shows it; conditional requests; no public caching of what needs a
// signature; link previews on every page kind.

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// fetched is one GET's answer.
type fetched struct {
	status int
	header http.Header
	body   string
}

// fetch GETs path from ti with accept and, when etag is not "",
// If-None-Match.
func (ti *testInstance) fetch(t *testing.T, path, accept, etag string) fetched {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ti.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fetched{resp.StatusCode, resp.Header, string(body)}
}

// startCachingInstance is startInstance, waiting until the document cache
// receives change notices (before that it serves nothing from memory).
func startCachingInstance(t *testing.T, opts testInstanceOptions) *testInstance {
	ti := startInstance(t, opts)
	eventually(t, "the document cache to listen", 10*time.Second, func() (bool, error) { return ti.docs.Listening(), nil })
	return ti
}

const activityJSON = federation.ContentTypeActivity

func TestCacheShowsEveryChangeOnTheNextFetch(t *testing.T) {
	t.Parallel()
	ti := startCachingInstance(t, testInstanceOptions{})
	ctx := t.Context()
	ti.createUser(t, "olga")
	ti.createUser(t, "ben")
	olga, ben := ti.user(t, "olga"), ti.user(t, "ben")
	c, err := ti.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "go", Title: "Intro to Go", Summary: "Learn *Go*.", OpenDiscussion: true})
	if err != nil {
		t.Fatal(err)
	}
	post, err := ti.actions.Post(ctx, ben, ti.urls.Course("go"), "first words", "")
	if err != nil {
		t.Fatal(err)
	}
	postPath := strings.TrimPrefix(post.IRI, "http://"+ti.addr)
	lesson, err := ti.actions.AddModule(ctx, olga, c, courses.ModuleDraft{Title: "First steps", Body: "Install Go."})
	if err != nil {
		t.Fatal(err)
	}
	lessonPath := strings.TrimPrefix(ti.urls.Module("go", lesson.ID), "http://"+ti.addr)

	// Every cached document and page that shows the course, its roster or
	// its discussion, with the form a peer or a browser asks for.
	docs := []struct{ name, path, accept string }{
		{"course actor", "/courses/go", activityJSON},
		{"followers", "/courses/go/followers", activityJSON},
		{"followers page", "/courses/go/followers?page=1", activityJSON},
		{"course page", "/courses/go", "text/html"},
		{"catalogue", "/courses", "text/html"},
		{"post", postPath, activityJSON},
		{"post page", postPath, "text/html"},
		{"profile", "/@ben", "text/html"},
		{"user actor", "/users/ben", activityJSON},
		{"home", "/", "text/html"},
		{"nodeinfo", "/nodeinfo/2.1", ""},
		{"course outbox", "/courses/go/outbox", activityJSON},
		{"lesson", lessonPath, activityJSON},
		{"lesson page", lessonPath, "text/html"},
		{"syllabus", "/courses/go/modules", activityJSON},
		{"webfinger", "/.well-known/webfinger?resource=acct:go@" + ti.addr, ""},
	}
	fetchAll := func() map[string]fetched {
		got := map[string]fetched{}
		for _, d := range docs {
			got[d.name] = ti.fetch(t, d.path, d.accept, "")
		}
		return got
	}
	// Once this process's changes have come back as notices, one fetch
	// renders and keeps everything.
	eventually(t, "the notices of the set-up", 10*time.Second, func() (bool, error) { return ti.docs.Pending() == 0, nil })
	fetchAll()

	// The cache is live: a change made behind its back (no notice) is not
	// seen, so what the steps below see is the invalidation's work.
	if _, err := ti.pool.Exec(ctx, `UPDATE courses SET title = 'Unannounced' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	for name, f := range fetchAll() {
		if strings.Contains(f.body, "Unannounced") {
			t.Fatalf("%s shows a change that was never announced: it is not served from the cache", name)
		}
	}

	type expect struct {
		doc      string
		shows    string // "" to skip
		notShows string // "" to skip
		status   int    // 0: 200
	}
	steps := []struct {
		name   string
		change func() error
		want   []expect
	}{
		{"course metadata", func() error {
			_, err := ti.actions.UpdateCourse(ctx, olga, c.ID, 0, courses.CourseDraft{Title: "Go, renamed", Summary: "New summary", OpenDiscussion: true})
			return err
		}, []expect{
			{doc: "course actor", shows: "Go, renamed"}, {doc: "course page", shows: "Go, renamed"},
			{doc: "course page", shows: "New summary"}, {doc: "catalogue", shows: "Go, renamed"},
			{doc: "post page", shows: "Go, renamed"},
		}},
		{"a new member", func() error {
			_, err := ti.actions.Enroll(ctx, ben, c)
			return err
		}, []expect{
			{doc: "followers", shows: `"totalItems":2`}, {doc: "followers page", shows: ti.urls.User("ben")},
			{doc: "course page", shows: "2 members"}, {doc: "catalogue", shows: "2 members"},
		}},
		{"a moderator", func() error {
			return ti.courses.SetRole(ctx, ti.pool, c.ID, ti.urls.User("ben"), courses.RoleModerator, ti.urls.User("olga"))
		}, []expect{{doc: "course actor", shows: ti.urls.User("ben")}}},
		{"a member leaves", func() error { return ti.actions.Leave(ctx, ben, c) }, []expect{
			{doc: "followers", shows: `"totalItems":1`}, {doc: "followers page", notShows: ti.urls.User("ben")},
			{doc: "course page", shows: "1 member<"}, {doc: "catalogue", shows: "1 member<"},
			{doc: "course actor", notShows: ti.urls.User("ben")},
		}},
		{"a post edit", func() error {
			_, err := ti.actions.EditPost(ctx, ben, post.IRI, "second thoughts")
			return err
		}, []expect{
			{doc: "course outbox", notShows: `"totalItems":1,`},
			{doc: "post", shows: "second thoughts"}, {doc: "post page", shows: "second thoughts"},
			{doc: "course page", shows: "second thoughts"}, {doc: "course page", notShows: "first words"},
		}},
		{"a lesson edit", func() error {
			_, err := ti.actions.EditModule(ctx, olga, c, lesson.ID, 0, courses.ModuleDraft{Title: "Second steps", Body: "Write Go."})
			return err
		}, []expect{
			{doc: "lesson", shows: "Second steps"}, {doc: "lesson", shows: "Write Go."},
			{doc: "lesson page", shows: "Second steps"}, {doc: "lesson page", notShows: "First steps</h1>"},
			{doc: "course page", shows: "Second steps"},
		}},
		{"a lesson added", func() error {
			_, err := ti.actions.AddModule(ctx, olga, c, courses.ModuleDraft{Title: "Third steps", Body: "Test Go."})
			return err
		}, []expect{{doc: "syllabus", shows: `"totalItems":2`}}},
		{"a lesson retired", func() error {
			_, err := ti.actions.RetireModule(ctx, olga, c, lesson.ID)
			return err
		}, []expect{
			{doc: "lesson", status: http.StatusGone}, {doc: "course page", notShows: "Second steps"},
			{doc: "syllabus", shows: `"totalItems":1`}, {doc: "syllabus", notShows: lessonPath + `"`},
		}},
		{"a profile edit", func() error {
			_, err := ti.courses.SetProfile(ctx, ben.ID, "Ben the Bold", "")
			return err
		}, []expect{{doc: "profile", shows: "Ben the Bold"}, {doc: "user actor", shows: "Ben the Bold"}}},
		{"the instance's identity", func() error {
			_, err := ti.courses.SetIdentity(ctx, courses.Identity{Name: "Go Learners", Description: "We learn Go"})
			return err
		}, []expect{
			{doc: "home", shows: "Go Learners"}, {doc: "course page", shows: `og:site_name" content="Go Learners"`},
			{doc: "nodeinfo", shows: `"nodeName":"Go Learners"`}, {doc: "catalogue", shows: "Go Learners"},
		}},
		{"registrations closed", func() error { return ti.courses.SetRegistrations(ctx, courses.RegistrationsClosed) },
			[]expect{{doc: "nodeinfo", shows: `"openRegistrations":false`}, {doc: "home", shows: "closed"}}},
		{"the author deletes the post", func() error { return ti.actions.DeletePost(ctx, ben, post.IRI) }, []expect{
			{doc: "post", status: http.StatusGone}, {doc: "post page", status: http.StatusGone},
			{doc: "course page", notShows: "second thoughts"},
		}},
	}
	for _, st := range steps {
		if err := st.change(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := fetchAll() // the very next fetch of each
		for _, w := range st.want {
			f := got[w.doc]
			status := w.status
			if status == 0 {
				status = http.StatusOK
			}
			if f.status != status {
				t.Errorf("after %s, %s: status %d, want %d", st.name, w.doc, f.status, status)
			}
			if w.shows != "" && !strings.Contains(f.body, w.shows) {
				t.Errorf("after %s, %s does not show %q:\n%.600s", st.name, w.doc, w.shows, f.body)
			}
			if w.notShows != "" && strings.Contains(f.body, w.notShows) {
				t.Errorf("after %s, %s still shows %q", st.name, w.doc, w.notShows)
			}
		}
	}

	// A moderator's removal of someone else's post. The new post reaches
	// the course's outbox (its Announce) on the next fetch too.
	outboxBefore := ti.fetch(t, "/courses/go/outbox?page=1", activityJSON, "")
	other, err := ti.actions.Post(ctx, olga, ti.urls.Course("go"), "to be removed", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(outboxBefore.body, other.IRI) {
		t.Fatal("the outbox shows a post before it was written")
	}
	if f := ti.fetch(t, "/courses/go/outbox?page=1", activityJSON, ""); !strings.Contains(f.body, other.IRI) {
		t.Errorf("the course outbox does not show the new post's Announce:\n%.400s", f.body)
	}
	otherPath := strings.TrimPrefix(other.IRI, "http://"+ti.addr)
	ti.fetch(t, otherPath, activityJSON, "")
	if f := ti.fetch(t, "/courses/go", "text/html", ""); !strings.Contains(f.body, "to be removed") {
		t.Fatal("the course page does not show the new post")
	}
	if err := ti.courses.SetRole(ctx, ti.pool, c.ID, ti.urls.User("ben"), courses.RoleModerator, ti.urls.User("olga")); err == nil {
		t.Fatal("ben left, yet became a moderator")
	}
	if _, err := ti.actions.Enroll(ctx, ben, c); err != nil {
		t.Fatal(err)
	}
	if err := ti.courses.SetRole(ctx, ti.pool, c.ID, ti.urls.User("ben"), courses.RoleModerator, ti.urls.User("olga")); err != nil {
		t.Fatal(err)
	}
	if err := ti.actions.RemovePost(ctx, ti.user(t, "ben"), other.IRI); err != nil {
		t.Fatal(err)
	}
	if f := ti.fetch(t, otherPath, activityJSON, ""); f.status != http.StatusGone {
		t.Errorf("after a moderator's removal the post answers %d, want 410", f.status)
	}
	if f := ti.fetch(t, "/courses/go", "text/html", ""); strings.Contains(f.body, "to be removed") {
		t.Error("after a moderator's removal the course page still shows the post")
	}
}

// TestCacheAcrossProcesses changes a course through another connection
// pool whose store does not tell this process's cache (as a worker process
// applying a remote Follow would): the change reaches the cache by its
// notice alone, so it is awaited with a bounded wait.
func TestCacheAcrossProcesses(t *testing.T) {
	t.Parallel()
	ti := startCachingInstance(t, testInstanceOptions{})
	ctx := t.Context()
	ti.createUser(t, "olga")
	c, err := ti.actions.CreateCourse(ctx, ti.user(t, "olga"), courses.CourseDraft{Slug: "far", Title: "Far"})
	if err != nil {
		t.Fatal(err)
	}
	if f := ti.fetch(t, "/courses/far/followers", activityJSON, ""); !strings.Contains(f.body, `"totalItems":1`) {
		t.Fatalf("followers: %s", f.body)
	}
	other, err := pgxpool.New(ctx, ti.pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	worker := courses.NewStore(other) // no ChangingFunc: another process
	if _, err := worker.Enroll(ctx, other, c, courses.Member{ActorIRI: "https://elsewhere.example/users/z", Via: "follow"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other process's change to reach the cache", 5*time.Second, func() (bool, error) {
		return strings.Contains(ti.fetch(t, "/courses/far/followers", activityJSON, "").body, `"totalItems":2`), nil
	})
}

func TestConditionalRequests(t *testing.T) {
	t.Parallel()
	ti := startCachingInstance(t, testInstanceOptions{})
	ctx := t.Context()
	ti.createUser(t, "olga")
	c, err := ti.actions.CreateCourse(ctx, ti.user(t, "olga"), courses.CourseDraft{Slug: "cond", Title: "Conditional"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ path, accept string }{
		{"/courses/cond", activityJSON}, {"/courses/cond", "text/html"}, {"/courses/cond/followers", activityJSON},
		{"/users/olga", activityJSON}, {"/.well-known/webfinger?resource=acct:olga@" + ti.addr, ""},
		{"/nodeinfo/2.0", ""}, {"/courses", "text/html"}, {"/@olga", "text/html"},
	} {
		first := ti.fetch(t, d.path, d.accept, "")
		etag := first.header.Get("ETag")
		if first.status != http.StatusOK || etag == "" {
			t.Fatalf("GET %s (%s): %d, ETag %q", d.path, d.accept, first.status, etag)
		}
		if cc := first.header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
			t.Errorf("GET %s (%s): Cache-Control %q, want public", d.path, d.accept, cc)
		}
		again := ti.fetch(t, d.path, d.accept, etag)
		if again.status != http.StatusNotModified || again.body != "" {
			t.Errorf("GET %s (%s) with its ETag: %d and %d bytes, want 304 and none", d.path, d.accept, again.status, len(again.body))
		}
		if stale := ti.fetch(t, d.path, d.accept, `"stale"`); stale.status != http.StatusOK || stale.body != first.body {
			t.Errorf("GET %s (%s) with a stale ETag: %d, want 200 and the document", d.path, d.accept, stale.status)
		}
	}
	// After a change, the old ETag no longer matches.
	old := ti.fetch(t, "/courses/cond", activityJSON, "").header.Get("ETag")
	if _, err := ti.actions.UpdateCourse(ctx, ti.user(t, "olga"), c.ID, 0, courses.CourseDraft{Title: "Changed"}); err != nil {
		t.Fatal(err)
	}
	if f := ti.fetch(t, "/courses/cond", activityJSON, old); f.status != http.StatusOK || !strings.Contains(f.body, "Changed") {
		t.Errorf("GET with the ETag of before the edit: %d, want 200 with the edit", f.status)
	}
	// The same URL answers HTML or JSON by Accept: shared caches must key
	// on it.
	if v := ti.fetch(t, "/courses/cond", activityJSON, "").header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Accept") {
		t.Errorf("course actor Vary = %v, want Accept", v)
	}
	if v := ti.fetch(t, "/courses/cond", "text/html", "").header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Cookie") {
		t.Errorf("course page Vary = %v, want Cookie", v)
	}
}

// TestSignedFetchIsNotPublic: in authorized-fetch mode what needs a
// signature is answered private, varying by signature, never public.
func TestSignedFetchIsNotPublic(t *testing.T) {
	t.Parallel()
	ti := startCachingInstance(t, testInstanceOptions{AuthorizedFetch: true})
	keys := ti.createUser(t, "olga")
	signed := func(path, etag string) fetched {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ti.addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", activityJSON)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		s := federation.Signer{KeyID: federation.MainKey(ti.urls.User("olga")), Key: keys.RSA}
		if err := s.Sign(req, nil); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return fetched{resp.StatusCode, resp.Header, string(body)}
	}
	if f := ti.fetch(t, "/users/olga", activityJSON, ""); f.status != http.StatusUnauthorized {
		t.Fatalf("unsigned GET: %d, want 401", f.status)
	}
	f := signed("/users/olga", "")
	if f.status != http.StatusOK {
		t.Fatalf("signed GET: %d %s", f.status, f.body)
	}
	if cc := f.header.Get("Cache-Control"); strings.Contains(cc, "public") || !strings.Contains(cc, "private") {
		t.Errorf("signed GET: Cache-Control %q, want private and never public", cc)
	}
	if v := strings.Join(f.header.Values("Vary"), ","); !strings.Contains(v, "Signature") || !strings.Contains(v, "Authorization") {
		t.Errorf("signed GET: Vary %q, want Signature and Authorization", v)
	}
	if again := signed("/users/olga", f.header.Get("ETag")); again.status != http.StatusNotModified {
		t.Errorf("signed GET with its ETag: %d, want 304", again.status)
	}
	// Unsigned with the ETag still gets 401, not 304: the cache is no way
	// around the signature.
	if again := ti.fetch(t, "/users/olga", activityJSON, f.header.Get("ETag")); again.status != http.StatusUnauthorized {
		t.Errorf("unsigned GET with the ETag: %d, want 401", again.status)
	}
	// The instance actor stays public.
	if cc := ti.fetch(t, "/actor", activityJSON, "").header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("instance actor: Cache-Control %q, want public", cc)
	}
}

var metaPattern = regexp.MustCompile(`<meta property="(og:[a-z_]+)" content="([^"]*)">`)
var alternatePattern = regexp.MustCompile(`<link rel="alternate" type="application/activity\+json" href="([^"]*)">`)

// TestLinkPreviews: every page kind carries its OpenGraph card and the
// ActivityStreams alternate, correctly escaped when titles hold quotes and
// markup; and the alternate resolves to the actor or object.
func TestLinkPreviews(t *testing.T) {
	t.Parallel()
	ti := startCachingInstance(t, testInstanceOptions{})
	ctx := t.Context()
	ti.createUser(t, "olga")
	olga := ti.user(t, "olga")
	const hostile = `Tom's "Go" <script>alert(1)</script> & co`
	if _, err := ti.courses.SetProfile(ctx, olga.ID, hostile, "I teach <b>Go</b> & \"more\"."); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.courses.SetIdentity(ctx, courses.Identity{Name: `The "Go" <Club>`}); err != nil {
		t.Fatal(err)
	}
	c, err := ti.actions.CreateCourse(ctx, olga, courses.CourseDraft{Slug: "esc", Title: hostile, Summary: `A "summary" with <i>markup</i>`})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ti.actions.AddModule(ctx, olga, c, courses.ModuleDraft{Title: `Lesson "one" <b>`, Body: "Read *this*."})
	if err != nil {
		t.Fatal(err)
	}
	post, err := ti.actions.Post(ctx, ti.user(t, "olga"), ti.urls.Course("esc"), `A post with "quotes" & <tags>`, "")
	if err != nil {
		t.Fatal(err)
	}
	lessonIRI := ti.urls.Module("esc", m.ID)
	pages := []struct {
		name, url, ogType, alternate, title string
	}{
		{"course", ti.urls.Course("esc"), "website", ti.urls.Course("esc"), hostile},
		{"lesson", lessonIRI, "article", lessonIRI, `Lesson "one" <b>`},
		{"post", post.IRI, "article", post.IRI, "Post by " + hostile + " in " + hostile},
		{"profile", ti.urls.Profile("olga"), "profile", ti.urls.User("olga"), hostile},
	}
	for _, p := range pages {
		f := ti.fetch(t, strings.TrimPrefix(p.url, "http://"+ti.addr), "text/html", "")
		if f.status != http.StatusOK {
			t.Fatalf("%s page: %d", p.name, f.status)
		}
		og := map[string]string{}
		for _, m := range metaPattern.FindAllStringSubmatch(f.body, -1) {
			og[m[1]] = html.UnescapeString(m[2])
		}
		want := map[string]string{"og:title": p.title, "og:type": p.ogType, "og:url": p.url, "og:site_name": `The "Go" <Club>`}
		for k, v := range want {
			if og[k] != v {
				t.Errorf("%s page: %s = %q, want %q", p.name, k, og[k], v)
			}
		}
		if og["og:description"] == "" {
			t.Errorf("%s page has no og:description", p.name)
		}
		if strings.Contains(f.body, "<script>alert") || strings.Contains(f.body, `content="Tom's "Go"`) {
			t.Errorf("%s page: the title reached the HTML unescaped", p.name)
		}
		alt := alternatePattern.FindStringSubmatch(f.body)
		if alt == nil || html.UnescapeString(alt[1]) != p.alternate {
			t.Fatalf("%s page: alternate %v, want %s", p.name, alt, p.alternate)
		}
		// Pasting the page into a fediverse search finds the object.
		doc := ti.fetch(t, strings.TrimPrefix(p.alternate, "http://"+ti.addr), activityJSON, "")
		var obj map[string]any
		if err := json.Unmarshal([]byte(doc.body), &obj); err != nil || obj["id"] != p.alternate {
			t.Errorf("%s: alternate document id = %v (%v), want %s", p.name, obj["id"], err, p.alternate)
		}
	}
}

var _ = context.Background
