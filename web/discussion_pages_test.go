package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
)

// TestDiscussionNewestFirstPaged: a discussion longer than any page shows
// its newest posts first and reaches the oldest through "Older posts"
// links, every post exactly once.
func TestDiscussionNewestFirstPaged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	owner := b.createUser(courses.NewUser{Username: "pia", Password: goodPassword})
	c, err := b.actions.CreateCourse(b.ctx, owner, courses.CourseDraft{Slug: "long", Title: "Long"})
	if err != nil {
		t.Fatal(err)
	}
	const total = 1050 // more than the 1,000 the page once showed, oldest first
	if _, err := b.pool.Exec(b.ctx, `
		INSERT INTO posts (iri, course_iri, author_iri, author_name, content, published)
		SELECT 'https://elsewhere.example/notes/' || g, $1, 'https://elsewhere.example/users/z', 'Zed',
			'<p>message number ' || g || ' end</p>', now() - interval '1 day' + g * interval '1 second'
		FROM generate_series(1, $2::int) g`, b.urls.Course(c.Slug), total); err != nil {
		t.Fatal(err)
	}
	number := regexp.MustCompile(`message number (\d+) end`)
	older := regexp.MustCompile(`href="([^"]*)" id="older-posts"`)
	seen := map[string]bool{}
	var order []string
	path, pages := "/courses/long", 0
	for path != "" {
		r := b.get(b.client(), path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		for _, m := range number.FindAllStringSubmatch(r.body, -1) {
			if seen[m[1]] {
				t.Fatalf("post %s shown twice", m[1])
			}
			seen[m[1]] = true
			order = append(order, m[1])
		}
		path = ""
		if m := older.FindStringSubmatch(r.body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		pages++
	}
	if len(seen) != total {
		t.Fatalf("the pages showed %d posts, want %d", len(seen), total)
	}
	if order[0] != fmt.Sprint(total) || order[len(order)-1] != "1" {
		t.Errorf("first shown %s, last %s: want the newest (%d) first and the oldest (1) last", order[0], order[len(order)-1], total)
	}
	if pages < 2 {
		t.Errorf("%d posts on %d page(s): the discussion is not paged", total, pages)
	}
	if r := b.get(b.client(), "/courses/long?before=abc"); r.status != http.StatusBadRequest {
		t.Errorf("?before=abc: %d, want 400", r.status)
	}
}
