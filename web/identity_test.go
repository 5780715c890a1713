package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestAdminSetsIdentity: the admin form sets the instance's name,
// description, contact and rules, which the header and the home page show;
// a bad contact is refused with 422 and changes nothing.
func TestAdminSetsIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn("root_ida", true)
	r := b.post(c, "/admin/settings", url.Values{"action": {"identity"}, "name": {`Go "Learners" <b>`},
		"description": {"Peer learning for Go"}, "contact": {"admin@learn.example.org"}, "rules": {"Be **kind**."}})
	if r.status != http.StatusOK {
		t.Fatalf("save identity: %d\n%s", r.status, r.body)
	}
	mustContain(t, r, "Saved.", `value="Go &#34;Learners&#34; &lt;b&gt;"`)
	home := b.get(b.client(), "/")
	mustContain(t, home, `<a class="brand" href="/">Go &#34;Learners&#34; &lt;b&gt;</a>`, "Peer learning for Go",
		"<strong>kind</strong>", "admin@learn.example.org", `<meta property="og:site_name" content="Go &#34;Learners&#34; &lt;b&gt;">`)
	mustNotContain(t, home, `Go "Learners" <b>`)

	r = b.post(c, "/admin/settings", url.Values{"action": {"identity"}, "name": {"Other"}, "contact": {"not a contact"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad contact: %d, want 422", r.status)
	}
	mustContain(t, r, `value="not a contact"`)
	if id, err := b.store.Identity(b.ctx); err != nil || id.Name != `Go "Learners" <b>` {
		t.Fatalf("identity after a refused form = %+v (%v), want the saved one", id, err)
	}
	// Only admins may.
	r = b.post(b.signedIn("ivy_m", false), "/admin/settings", url.Values{"action": {"identity"}, "name": {"Hijacked"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("member: %d, want 403", r.status)
	}
	if id, _ := b.store.Identity(b.ctx); id.Name == "Hijacked" {
		t.Fatal("a member changed the identity")
	}
}
