package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestProfileEdit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if r := b.get(b.client(), "/settings/profile"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
		t.Fatalf("anonymous profile form: %d %q, want a redirect to sign in", r.status, r.location)
	}
	c := b.signedIn("rosa", false)
	r := b.post(c, "/settings/profile", url.Values{"display_name": {"Rosa F"}, "summary": {"I learn **Go** <script>x()</script>"}})
	if r.status != http.StatusSeeOther || r.location != "/@rosa" {
		t.Fatalf("save: %d %q", r.status, r.location)
	}
	page := b.get(c, "/@rosa")
	mustContain(t, page, "Rosa F", "<strong>Go</strong>", `href="/settings/profile"`)
	mustNotContain(t, page, "<script>")
	// Someone else's view has no edit link.
	mustNotContain(t, b.get(b.client(), "/@rosa"), `href="/settings/profile"`)

	long := strings.Repeat("x", 101)
	r = b.post(c, "/settings/profile", url.Values{"display_name": {long}, "summary": {"kept"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("too long a name: %d, want 422", r.status)
	}
	mustContain(t, r, "kept")
	if n := b.count(`SELECT count(*) FROM users WHERE username = 'rosa' AND display_name = 'Rosa F'`); n != 1 {
		t.Fatalf("a refused edit changed the profile")
	}
}
