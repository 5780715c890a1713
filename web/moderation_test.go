package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestModerationPagesAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	member := b.signedIn("ivy", false)
	for _, path := range []string{"/admin/domains", "/admin/log"} {
		if r := b.get(b.client(), path); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
			t.Errorf("anonymous GET %s: %d to %q, want sign-in", path, r.status, r.location)
		}
		if r := b.get(member, path); r.status != http.StatusForbidden {
			t.Errorf("member GET %s: %d, want 403", path, r.status)
		}
	}
	if r := b.post(member, "/admin/domains", url.Values{"action": {"block"}, "host": {"spam.example"}}); r.status != http.StatusForbidden {
		t.Errorf("member blocking: %d, want 403", r.status)
	}
	if r := b.get(b.client(), "/moderation/reports"); r.status != http.StatusSeeOther {
		t.Errorf("anonymous queue: %d, want a redirect", r.status)
	}
	if n := b.count(`SELECT count(*) FROM domain_blocks`); n != 0 {
		t.Errorf("%d domain blocks after refused requests", n)
	}
}

func TestDomainBlocksPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.signedIn("ann", true)
	r := b.post(admin, "/admin/domains", url.Values{"action": {"block"}, "host": {"not a host!"}, "reason": {"x"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad host: %d, want 422", r.status)
	}
	mustContain(t, r, "not a host name", `value="not a host!"`)
	r = b.post(admin, "/admin/domains", url.Values{"action": {"block"}, "host": {b.host}, "reason": {"self"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("blocking this instance: %d, want 422", r.status)
	}
	if n := b.count(`SELECT count(*) FROM domain_blocks`); n != 0 {
		t.Fatalf("%d blocks after refused ones", n)
	}
	r = b.post(admin, "/admin/domains", url.Values{"action": {"block"}, "host": {"https://Spam.Example/about"}, "reason": {"spam farm"}})
	mustContain(t, r, "Blocked spam.example", `data-host="spam.example"`, "spam farm")
	r = b.post(admin, "/admin/domains", url.Values{"action": {"unblock"}, "host": {"other.example"}})
	if r.status != http.StatusNotFound {
		t.Errorf("unblocking a host not blocked: %d, want 404", r.status)
	}
	r = b.post(admin, "/admin/domains", url.Values{"action": {"unblock"}, "host": {"spam.example"}})
	mustContain(t, r, "Unblocked spam.example", "No server is blocked")
	log := b.get(admin, "/admin/log")
	mustContain(t, log, `data-action="domain.block"`, `data-action="domain.unblock"`, "spam farm")
}

func TestReportAndQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	owner := b.signedIn("olga", false)
	b.newCourse(owner, "civics", "Civics", nil)
	if r := b.post(owner, "/courses/civics/posts", url.Values{"content": {"Buy cheap pills"}}); r.status != http.StatusSeeOther {
		t.Fatalf("post: %d\n%s", r.status, r.body)
	}
	postIRI := b.postIRI("cheap pills")
	ivy := b.signedIn("ivy", false)

	mustContain(t, b.get(ivy, "/courses/civics"), `href="/report?post=`+strings.ToLower(url.QueryEscape(postIRI)))
	if r := b.get(ivy, "/report"); r.status != http.StatusBadRequest {
		t.Errorf("report of nothing: %d, want 400", r.status)
	}
	if r := b.get(ivy, "/report?post="+url.QueryEscape(b.urls.Post("nope"))); r.status != http.StatusNotFound {
		t.Errorf("report of an unknown post: %d, want 404", r.status)
	}
	form := b.get(ivy, "/report?post="+url.QueryEscape(postIRI))
	mustContain(t, form, "Buy cheap pills", `name="comment"`)
	r := b.post(ivy, "/report", url.Values{"post": {postIRI}, "comment": {strings.Repeat("x", 2001)}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("long comment: %d, want 422", r.status)
	}
	if n := b.count(`SELECT count(*) FROM reports`); n != 0 {
		t.Fatalf("%d reports after a refused one", n)
	}
	r = b.post(ivy, "/report", url.Values{"post": {postIRI}, "comment": {"spam"}})
	mustContain(t, r, "in the moderators' queue")
	mustNotContain(t, r, "also sent") // a local post: no Flag
	var id int64
	if err := b.pool.QueryRow(b.ctx, `SELECT id FROM reports WHERE post_iri = $1 AND comment = 'spam' AND activity_id = ''`, postIRI).Scan(&id); err != nil {
		t.Fatal(err)
	}

	// An account is reported from its profile.
	mustContain(t, b.get(owner, "/@ivy"), `href="/report?user=ivy"`)
	mustContain(t, b.get(owner, "/report?user=ivy"), `name="account" value="`+b.urls.User("ivy")+`"`)
	r = b.post(owner, "/report", url.Values{"account": {b.urls.User("ivy")}, "comment": {"rude"}})
	mustContain(t, r, "in the moderators' queue")
	if n := b.count(`SELECT count(*) FROM reports WHERE target_iri = $1 AND post_iri = '' AND course_iri = ''`, b.urls.User("ivy")); n != 1 {
		t.Errorf("%d account reports of ivy", n)
	}
	if r := b.post(owner, "/report", url.Values{"account": {b.urls.User("nobody")}}); r.status != http.StatusNotFound {
		t.Errorf("report of an unknown account: %d, want 404", r.status)
	}

	// ivy moderates nothing: she sees no report and may not act.
	mustContain(t, b.get(ivy, "/moderation/reports"), "No reports.")
	r = b.post(ivy, fmt.Sprintf("/moderation/reports/%d", id), url.Values{"remedy": {"remove-post"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("ivy removing: %d, want 403", r.status)
	}
	if n := b.count(`SELECT count(*) FROM posts WHERE iri = $1 AND NOT deleted`, postIRI); n != 1 {
		t.Fatal("the post was removed by someone who may not")
	}

	// olga owns the course: she sees the report and removes the post.
	q := b.get(owner, "/moderation/reports")
	mustContain(t, q, fmt.Sprintf(`id="report-%d"`, id), "Buy cheap pills", `value="remove-post"`, `value="block-member"`)
	mustNotContain(t, q, `value="block-domain"`) // admins only
	r = b.post(owner, fmt.Sprintf("/moderation/reports/%d", id), url.Values{"remedy": {"block-domain"}})
	if r.status != http.StatusForbidden {
		t.Errorf("a moderator blocking a domain: %d, want 403", r.status)
	}
	r = b.post(owner, fmt.Sprintf("/moderation/reports/%d", id), url.Values{"remedy": {"remove-post"}, "reason": {"spam"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("olga removing: %d\n%s", r.status, r.body)
	}
	if n := b.count(`SELECT count(*) FROM posts WHERE iri = $1 AND deleted`, postIRI); n != 1 {
		t.Error("the post is still there")
	}
	mustContain(t, b.get(owner, "/moderation/reports?state=resolved"), "Resolved by olga: post removed: spam")
	if r := b.post(owner, fmt.Sprintf("/moderation/reports/%d", id), url.Values{"remedy": {"resolve"}}); r.status != http.StatusNotFound {
		t.Errorf("resolving twice: %d, want 404", r.status)
	}
	if n := b.count(`SELECT count(*) FROM moderation_log WHERE actor = 'olga' AND action = 'post.remove' AND report_id = $1`, id); n != 1 {
		t.Errorf("%d log entries for the removal", n)
	}
}
