package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
)

// discussionLength is more than the 1,000 posts the pages once showed,
// oldest first, so a page that lists a fixed number from the start never
// shows the newest.
const discussionLength = 1050

// addPosts stores discussionLength posts in the course courseIRI, number 1
// the oldest.
func addPosts(t *testing.T, b *bundle, courseIRI string) {
	t.Helper()
	if _, err := b.pool.Exec(b.ctx, `
		INSERT INTO posts (iri, course_iri, author_iri, author_name, content, published)
		SELECT $1 || '/notes/' || g, $1, 'https://elsewhere.example/users/z', 'Zed',
			'<p>message number ' || g || ' end</p>', now() - interval '1 day' + g * interval '1 second'
		FROM generate_series(1, $2::int) g`, courseIRI, discussionLength); err != nil {
		t.Fatal(err)
	}
}

// walkDiscussion follows a discussion's "Older posts" links from path and
// checks that it shows the newest post first, the oldest last, every post
// exactly once, on more than one page, and that a malformed page number
// is refused.
func walkDiscussion(t *testing.T, b *bundle, c *http.Client, path string) {
	t.Helper()
	number := regexp.MustCompile(`message number (\d+) end`)
	older := regexp.MustCompile(`href="([^"]*)" id="older-posts"`)
	seen := map[string]bool{}
	var order []string
	first, pages := path, 0
	for path != "" {
		r := b.get(c, path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		for _, m := range number.FindAllStringSubmatch(r.body, -1) {
			if seen[m[1]] {
				t.Fatalf("%s: post %s shown twice", first, m[1])
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
	if len(seen) != discussionLength {
		t.Fatalf("%s: the pages showed %d posts, want %d", first, len(seen), discussionLength)
	}
	if order[0] != fmt.Sprint(discussionLength) || order[len(order)-1] != "1" {
		t.Errorf("%s: first shown %s, last %s: want the newest (%d) first and the oldest (1) last", first, order[0], order[len(order)-1], discussionLength)
	}
	if pages < 2 {
		t.Errorf("%s: %d posts on %d page(s): the discussion is not paged", first, discussionLength, pages)
	}
	sep := "?"
	if strings.Contains(first, "?") {
		sep = "&"
	}
	if r := b.get(c, first+sep+"before=abc"); r.status != http.StatusBadRequest {
		t.Errorf("%s%sbefore=abc: %d, want 400", first, sep, r.status)
	}
}

// TestDiscussionNewestFirstPaged: a local course's discussion longer than
// any page shows its newest posts first and reaches the oldest through
// "Older posts" links.
func TestDiscussionNewestFirstPaged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	owner := b.createUser(courses.NewUser{Username: "pia", Password: goodPassword})
	c, err := b.actions.CreateCourse(b.ctx, owner, courses.CourseDraft{Slug: "long", Title: "Long"})
	if err != nil {
		t.Fatal(err)
	}
	addPosts(t, b, b.urls.Course(c.Slug))
	walkDiscussion(t, b, b.client(), "/courses/long")
}

// The discussion of a remote course a learner joined, and of a course
// co-hosted here, are paged the same way: a long one's newest posts are
// not left out.
func TestRemoteAndCohostedDiscussionsNewestFirstPaged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.signedIn("ann", false)
	remote := "https://far.example/courses/math"
	b.requestRemote("ann", remote, "https://x/join/1")
	b.acceptRemote(remote, "https://x/join/1")
	addPosts(t, b, remote)
	walkDiscussion(t, b, ann, "/remote/course?iri="+url.QueryEscape(remote))

	cohosted := "https://peer.example/courses/shared"
	if _, err := b.pool.Exec(b.ctx, `INSERT INTO cohosted_courses (course_iri, inbox, name, follow_id, state, added_by)
		VALUES ($1, 'https://peer.example/courses/shared/inbox', 'Shared', 'https://x/follow/1', 'accepted', 'admin')`, cohosted); err != nil {
		t.Fatal(err)
	}
	addPosts(t, b, cohosted)
	walkDiscussion(t, b, b.client(), "/cohosted?iri="+url.QueryEscape(cohosted))
}
