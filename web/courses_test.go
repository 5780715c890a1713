package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
)

// newCourse posts the new-course form as c and fails unless it succeeds.
func (b *bundle) newCourse(c *http.Client, slug, title string, extra url.Values) {
	b.t.Helper()
	form := url.Values{"slug": {slug}, "title": {title}, "summary": {"Learn **Go** together."},
		"language": {"en"}, "licence": {"CC-BY-SA-4.0"}, "tags": {"go, programming"}}
	for k, v := range extra {
		form[k] = v
	}
	r := b.post(c, "/courses/new", form)
	if r.status != http.StatusSeeOther || r.location != "/courses/"+slug {
		b.t.Fatalf("create course %s: %d to %q\n%s", slug, r.status, r.location, r.body)
	}
}

// postIRI returns the IRI of the live post whose HTML contains text.
func (b *bundle) postIRI(text string) string {
	b.t.Helper()
	var iri string
	if err := b.pool.QueryRow(b.ctx, `SELECT iri FROM posts WHERE content LIKE '%' || $1 || '%' AND NOT deleted`, text).Scan(&iri); err != nil {
		b.t.Fatalf("post %q: %v", text, err)
	}
	return iri
}

func TestWebCreateCourse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.createUser(courses.NewUser{Username: "taken", Password: goodPassword})

	r := b.get(b.client(), "/courses/new")
	if r.status != http.StatusSeeOther || r.location != "/signin?next=%2Fcourses%2Fnew" {
		t.Fatalf("anonymous form: %d to %q", r.status, r.location)
	}
	mustContain(t, b.get(ann, "/courses/new"), `name="slug"`, `<option value="CC0-1.0"`, `name="manually_approves"`)

	tests := []struct {
		name, slug, title string
		message           string
	}{
		{"bad slug", "Intro Go!", "Intro", "Handle: use 1–63 lower-case letters"},
		{"reserved slug", "new", "Intro", "Handle: this name is reserved"},
		{"slug taken by a user", "taken", "Intro", "already taken"},
		{"no title", "intro-go", " ", "Title: give a title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post(ann, "/courses/new", url.Values{"slug": {tt.slug}, "title": {tt.title}, "licence": {"CC0-1.0"}})
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422\n%s", r.status, r.body)
			}
			mustContain(t, r, tt.message, `value="CC0-1.0" selected`)
		})
	}
	if n := b.count(`SELECT count(*) FROM courses`); n != 0 {
		t.Fatalf("%d courses after refusals", n)
	}

	b.newCourse(ann, "intro-go", "Intro to <Go>", url.Values{"open_discussion": {"1"}})
	r = b.get(b.client(), "/courses/intro-go")
	mustContain(t, r, "Intro to &lt;Go&gt;", "@intro-go@"+b.host, "Search this in Mastodon", "Learn <strong>Go</strong> together.",
		"#go", "#programming", "CC-BY-SA-4.0", `id="remote-follow"`, "1 member")
	if r.header.Get("Content-Security-Policy") == "" {
		t.Fatal("course page without security headers")
	}
	mustNotContain(t, r, `id="enroll-button"`, `id="moderate"`)

	cat := b.get(ann, "/courses")
	mustContain(t, cat, `href="/courses/intro-go"`, "Intro to &lt;Go&gt;", "@intro-go@"+b.host, "1 member", "Learn Go together.", `href="/courses/new"`)
	mustNotContain(t, b.get(b.client(), "/courses"), `href="/courses/new"`)
	mustContain(t, b.get(b.client(), "/"), `href="/courses"`)

	// The owner sees the moderation forms, and a second course cannot take
	// the same handle.
	mustContain(t, b.get(ann, "/courses/intro-go"), "You own this course", `id="moderate"`, `name="version" value="1"`)
	r = b.post(ann, "/courses/new", url.Values{"slug": {"intro-go"}, "title": {"Again"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate slug: %d", r.status)
	}
	if r := b.get(b.client(), "/courses/nothing"); r.status != http.StatusNotFound {
		t.Fatalf("unknown course: %d", r.status)
	}
}

func TestWebEnrollLeave(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "rust", "Rust", nil)
	ben := b.signedIn("ben", false)

	r := b.post(b.client(), "/courses/rust/enroll", url.Values{})
	if r.status != http.StatusSeeOther || r.location != "/signin?next=%2Fcourses%2Frust" {
		t.Fatalf("anonymous enroll: %d to %q", r.status, r.location)
	}
	mustContain(t, b.get(ben, "/courses/rust"), `id="enroll-button"`, "Enroll to take part")
	if r := b.post(ben, "/courses/rust/enroll", url.Values{}); r.status != http.StatusSeeOther || r.location != "/courses/rust" {
		t.Fatalf("enroll: %d to %q", r.status, r.location)
	}
	r = b.get(ben, "/courses/rust")
	mustContain(t, r, "You are enrolled", `id="leave-button"`, "2 members", `id="post-form"`)
	mustNotContain(t, r, `id="enroll-button"`, `class="members"`)
	mustContain(t, b.get(ann, "/courses/rust"), `class="members"`, "ben", "learner")

	if r := b.post(ben, "/courses/rust/leave", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("leave: %d", r.status)
	}
	mustContain(t, b.get(ben, "/courses/rust"), `id="enroll-button"`, "1 member")
	if r := b.post(ann, "/courses/rust/leave", url.Values{}); r.status != http.StatusNotFound {
		t.Fatalf("owner leaving: %d, want 404", r.status)
	}
	if r := b.post(ben, "/courses/nope/enroll", url.Values{}); r.status != http.StatusNotFound {
		t.Fatalf("enroll in unknown course: %d", r.status)
	}
}

func TestWebDiscussion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go", nil)
	ben := b.signedIn("ben", false)
	carl := b.signedIn("carl", false)
	b.post(ben, "/courses/go/enroll", url.Values{})

	r := b.post(ben, "/courses/go/posts", url.Values{"content": {"Hello *everyone* <script>alert(1)</script>"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/courses/go#post-") {
		t.Fatalf("post: %d to %q\n%s", r.status, r.location, r.body)
	}
	parent := b.postIRI("everyone")
	r = b.post(ann, "/courses/go/posts", url.Values{"content": {"Welcome, ben"}, "in_reply_to": {parent}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", r.status, r.body)
	}
	b.post(ben, "/courses/go/posts", url.Values{"content": {"A second topic"}})

	page := b.get(carl, "/courses/go")
	mustContain(t, page, "<em>everyone</em>", `href="`+b.urls.User("ben")+`"`, "@ben@"+b.host)
	// The script tag is gone; its text stays as harmless text.
	mustNotContain(t, page, "<script>", "</script>")
	// Threaded, newest threads first: the later top-level post leads, and
	// the reply comes right after its parent, one level deeper.
	order := regexp.MustCompile(`class="post indent-(\d)" id="post-\d+"[^>]*>[\s\S]*?<div class="content">([\s\S]*?)</div>`).FindAllStringSubmatch(page.body, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1]+":"+strings.TrimSpace(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[2], "")))
	}
	want := []string{"0:A second topic", "0:Hello everyone alert(1)", "1:Welcome, ben"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("thread %q, want %q", got, want)
	}

	// A non-member may not post, not even by hand-crafting the form.
	r = b.post(carl, "/courses/go/posts", url.Values{"content": {"let me in"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("non-member post: %d, want 403", r.status)
	}
	mustContain(t, r, "Enroll first")
	mustNotContain(t, page, `action="/courses/go/posts"`)
	// An empty post re-renders the page with 422.
	r = b.post(ben, "/courses/go/posts", url.Values{"content": {"  "}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("empty post: %d, want 422", r.status)
	}
	mustContain(t, r, `role="alert"`, "write something first")

	// Authors edit and delete their own posts; others may not.
	r = b.post(carl, "/courses/go/posts/edit", url.Values{"iri": {parent}, "content": {"hijacked"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("editing another's post: %d, want 403", r.status)
	}
	r = b.post(ben, "/courses/go/posts/edit", url.Values{"iri": {parent}, "content": {"Hello *all*"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.status, r.body)
	}
	mustContain(t, b.get(ben, "/courses/go"), "<em>all</em>", "edited")
	second := b.postIRI("second topic")
	if r := b.post(ben, "/courses/go/posts/delete", url.Values{"iri": {second}}); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	mustNotContain(t, b.get(ben, "/courses/go"), "second topic")
}

func TestWebModeration(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go", nil)
	ben := b.signedIn("ben", false)
	b.post(ben, "/courses/go/enroll", url.Values{})
	b.post(ben, "/courses/go/posts", url.Values{"content": {"buy cheap watches"}})
	spam := b.postIRI("cheap watches")

	page := b.get(ann, "/courses/go")
	mustContain(t, page, `action="/courses/go/posts/remove"`, `action="/courses/go/members/block"`)
	mustNotContain(t, b.get(ben, "/courses/go"), `action="/courses/go/posts/remove"`)
	if r := b.post(ben, "/courses/go/posts/remove", url.Values{"iri": {spam}}); r.status != http.StatusForbidden {
		t.Fatalf("learner removing: %d, want 403", r.status)
	}
	if r := b.post(ann, "/courses/go/posts/remove", url.Values{"iri": {spam}}); r.status != http.StatusSeeOther {
		t.Fatalf("moderator removing: %d\n%s", r.status, r.body)
	}
	mustNotContain(t, b.get(ann, "/courses/go"), "cheap watches")

	// Lessons and announcements are for moderators.
	if r := b.post(ben, "/courses/go/modules", url.Values{"title": {"Mine"}, "body": {"x"}}); r.status != http.StatusForbidden {
		t.Fatalf("learner publishing: %d, want 403", r.status)
	}
	r := b.post(ann, "/courses/go/modules", url.Values{"title": {"Types"}, "body": {"Every value has a **type**."}})
	if r.status != http.StatusSeeOther || r.location != "/courses/go#module-1" {
		t.Fatalf("publish: %d to %q\n%s", r.status, r.location, r.body)
	}
	if r := b.post(ann, "/courses/go/modules", url.Values{"title": {""}, "body": {"x"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("untitled lesson: %d, want 422", r.status)
	}
	if r := b.post(ann, "/courses/go/announce", url.Values{"content": {"Meeting on *Friday*"}}); r.status != http.StatusSeeOther {
		t.Fatalf("announce: %d", r.status)
	}
	page = b.get(b.client(), "/courses/go")
	mustContain(t, page, `id="module-1"`, "1. Types", "Every value has a <strong>type</strong>.", "Meeting on <em>Friday</em>")

	// Blocking ends the membership and keeps ben out.
	if r := b.post(ann, "/courses/go/members/block", url.Values{"actor": {b.urls.User("ben")}}); r.status != http.StatusSeeOther {
		t.Fatalf("block: %d", r.status)
	}
	mustContain(t, b.get(ben, "/courses/go"), "You were blocked")
	if r := b.post(ben, "/courses/go/enroll", url.Values{}); r.status != http.StatusForbidden {
		t.Fatalf("blocked enroll: %d, want 403", r.status)
	}
	if r := b.post(ben, "/courses/go/posts", url.Values{"content": {"again"}}); r.status != http.StatusForbidden {
		t.Fatalf("blocked post: %d, want 403", r.status)
	}
}

func TestWebApprove(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go", url.Values{"manually_approves": {"1"}})
	remote := "https://elsewhere.example/users/zoe"
	c, err := b.store.CourseBySlug(b.ctx, "go")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Enroll(b.ctx, b.pool, c, courses.Member{ActorIRI: remote, Name: "Zoe", Handle: "@zoe@elsewhere.example",
		Inbox: remote + "/inbox", Via: "follow", RequestID: "https://elsewhere.example/follows/1"}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, b.get(ann, "/courses/go"), "Zoe", "pending", `action="/courses/go/members/approve"`, "1 member")
	if r := b.post(ann, "/courses/go/members/approve", url.Values{"actor": {remote}}); r.status != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", r.status, r.body)
	}
	mustContain(t, b.get(ann, "/courses/go"), "2 members")
	if n := b.count(`SELECT count(*) FROM outbox_activities WHERE type = 'Accept'`); n != 1 {
		t.Fatalf("%d Accept activities, want 1", n)
	}
}

func TestWebEditConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go", nil)
	edit := func(version, title string) response {
		return b.post(ann, "/courses/go/edit", url.Values{"version": {version}, "title": {title}, "summary": {"s"},
			"language": {"en"}, "licence": {"CC0-1.0"}, "tags": {"go"}})
	}
	if r := edit("1", "Go, first edit"); r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", r.status, r.body)
	}
	// A second form opened at version 1 would overwrite the first edit.
	r := edit("1", "Go, stale edit")
	if r.status != http.StatusConflict {
		t.Fatalf("stale edit: %d, want 409", r.status)
	}
	mustContain(t, r, "Someone else edited this course", `href="/courses/go"`)
	r = edit("2", "")
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("empty title: %d, want 422", r.status)
	}
	mustContain(t, r, "Title: give a title")
	mustContain(t, b.get(ann, "/courses/go"), "Go, first edit", "CC0-1.0", `name="version" value="2"`)

	ben := b.signedIn("ben", false)
	r = b.post(ben, "/courses/go/edit", url.Values{"version": {"2"}, "title": {"Mine now"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("edit by a stranger: %d, want 403", r.status)
	}
}

func TestWebRemoteFollow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go", nil)
	r := b.get(b.client(), "/courses/go/follow?handle="+url.QueryEscape("@me@mastodon.example"))
	want := "https://mastodon.example/authorize_interaction?uri=" + url.QueryEscape(b.urls.Course("go"))
	if r.status != http.StatusSeeOther || r.location != want {
		t.Fatalf("remote follow: %d to %q, want %q", r.status, r.location, want)
	}
	for _, bad := range []string{"", "me", "@me", "https://mastodon.example/@me", "@me@evil.example/x", "@me@host:bad:port", "@me@user@host"} {
		r := b.get(b.client(), "/courses/go/follow?handle="+url.QueryEscape(bad))
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("handle %q: %d to %q, want 422", bad, r.status, r.location)
		}
		mustContain(t, r, "Your handle: write it as @name@your.server", `id="remote-follow"`)
	}
}

func TestWebRemotePages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "go", "Go", nil)
	mustContain(t, b.get(ann, "/remote?course=%40x%40y.example"), `action="/remote/join"`, `value="@x@y.example"`)
	// A local handle opens the local course; a malformed one is refused.
	r := b.post(ann, "/remote/join", url.Values{"course": {"@go@" + b.host}})
	if r.status != http.StatusSeeOther || r.location != "/courses/go" {
		t.Fatalf("local handle: %d to %q", r.status, r.location)
	}
	if r := b.post(ann, "/remote/join", url.Values{"course": {"not a handle"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad handle: %d, want 422", r.status)
	}
	// A remote course the user has joined (the Accept has arrived).
	remote := "https://far.example/courses/math"
	b.requestRemote("ann", remote, "https://x/join/1")
	page := b.get(ann, "/remote/course?iri="+url.QueryEscape(remote))
	mustContain(t, page, "pending")
	mustNotContain(t, page, `id="post-form"`)
	mustContain(t, b.get(ann, "/courses"), "far.example/courses/math", "pending")
	b.acceptRemote(remote, "https://x/join/1")
	if _, _, err := b.store.SavePost(b.ctx, b.pool, courses.Post{IRI: "https://far.example/posts/1", CourseIRI: remote,
		AuthorIRI: "https://far.example/users/max", AuthorName: "Max", AuthorHandle: "max", Content: "<p>Sums <b>first</b></p>"}); err != nil {
		t.Fatal(err)
	}
	page = b.get(ann, "/remote/course?iri="+url.QueryEscape(remote))
	mustContain(t, page, "You are enrolled", `id="post-form"`, "Sums <b>first</b>", "@max@far.example", `name="in_reply_to" value="https://far.example/posts/1"`)
	if r := b.get(ann, "/remote/course?iri="+url.QueryEscape("https://far.example/courses/other")); r.status != http.StatusNotFound {
		t.Fatalf("not joined: %d, want 404", r.status)
	}
	if r := b.get(b.client(), "/remote"); r.status != http.StatusSeeOther {
		t.Fatalf("anonymous /remote: %d", r.status)
	}
}
