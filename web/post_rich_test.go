package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The post form's content warning is kept and shows the post collapsed;
// a local @name and a #word become links; the page allows https images.
func TestWebPostContentWarning(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	b.newCourse(ann, "cw", "CW", nil)
	mustContain(t, b.get(ann, "/courses/cw"), `name="summary"`)

	r := b.post(ann, "/courses/cw/posts", url.Values{"content": {"Spoiler for @ann: the answer is #fortytwo"}, "summary": {"Week 3 <b>answers</b>"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("post: %d\n%s", r.status, r.body)
	}
	var summary string
	var sensitive bool
	if err := b.pool.QueryRow(b.ctx, `SELECT summary, sensitive FROM posts WHERE content LIKE '%answer is%'`).Scan(&summary, &sensitive); err != nil {
		t.Fatal(err)
	}
	if summary != "Week 3 answers" || !sensitive {
		t.Errorf("stored content warning %q sensitive %v", summary, sensitive)
	}
	page := b.get(ann, "/courses/cw")
	mustContain(t, page, `<details class="content-warning">`, `<summary>Week 3 answers</summary>`,
		`href="`+b.urls.User("ann")+`" class="u-url mention"`, `class="mention hashtag"`, `<a class="hashtag" href="/tags/fortytwo" rel="tag">#fortytwo</a>`)
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: https:;") {
		t.Errorf("CSP %q does not allow https images", csp)
	}

	long := strings.Repeat("x", 501)
	r = b.post(ann, "/courses/cw/posts", url.Values{"content": {"too long a warning"}, "summary": {long}})
	if r.status != http.StatusUnprocessableEntity || b.count(`SELECT count(*) FROM posts WHERE content LIKE '%too long a warning%'`) != 0 {
		t.Errorf("an over-long content warning: %d, and the post stored %d times", r.status, b.count(`SELECT count(*) FROM posts WHERE content LIKE '%too long a warning%'`))
	}
}
