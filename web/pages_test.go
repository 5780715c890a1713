package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
)

func TestProfile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u := b.createUser(courses.NewUser{Username: "mona", Password: goodPassword, DisplayName: "Mona <Lisa>"})
	if _, err := b.store.SetProfile(b.ctx, u.ID, u.DisplayName, `learns Go <script>alert("x")</script>`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		status     int
		want       []string
	}{
		// The summary is Markdown; raw HTML in it is dropped, not shown.
		{"page", "/@mona", http.StatusOK, []string{"Mona &lt;Lisa&gt;", "@mona@" + b.host, "<p>learns Go"}},
		{"actor route", "/users/mona", http.StatusOK, []string{"Mona &lt;Lisa&gt;", "@mona@" + b.host}},
		{"unknown", "/@nobody", http.StatusNotFound, []string{"Not found", "@nobody"}},
		{"unknown via actor route", "/users/nobody", http.StatusNotFound, []string{"Not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(b.client(), tt.path)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			mustContain(t, r, tt.want...)
			mustNotContain(t, r, "<script>")
		})
	}
	// ProfileHTML loads the session itself when called outside Routes.
	c := b.signedIn("nico", false)
	mustContain(t, b.get(c, "/users/mona"), `href="/@nico"`, "Sign out")
}

// CrossOriginProtection refuses cross-site form posts before they do anything.
func TestCrossOriginPostsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(courses.NewUser{Username: "olga", Password: goodPassword})
	tests := []struct {
		name   string
		path   string
		form   url.Values
		header map[string]string
	}{
		{"signup cross-site", "/signup", url.Values{"username": {"mallory"}, "password": {goodPassword}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"signin cross-site", "/signin", url.Values{"username": {"olga"}, "password": {goodPassword}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"signup foreign origin", "/signup", url.Values{"username": {"mallory"}, "password": {goodPassword}}, map[string]string{"Origin": "https://evil.example"}},
		{"admin same-site", "/admin/settings", url.Values{"action": {"invite"}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := b.client()
			r := b.do(c, "POST", tt.path, tt.form, tt.header)
			if r.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403", r.status)
			}
			mustContain(t, r, "Cross-origin request refused")
			if len(c.Jar.Cookies(mustURL(t, b.srv.URL))) != 0 {
				t.Fatal("refused request set a cookie")
			}
		})
	}
	if b.count(`SELECT count(*) FROM users`) != 1 || b.count(`SELECT count(*) FROM sessions`) != 0 {
		t.Fatal("a cross-origin POST changed something")
	}
	// The same form from the same origin is accepted.
	r := b.do(b.client(), "POST", "/signin", url.Values{"username": {"olga"}, "password": {goodPassword}},
		map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": b.srv.URL})
	if r.status != http.StatusSeeOther {
		t.Fatalf("same-origin sign-in: %d", r.status)
	}
}

func TestHomeAndStatic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client()
	r := b.get(c, "/")
	mustContain(t, r, "Welcome to "+b.host, `href="/signin"`, `href="/signup"`)
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	r = b.get(c, "/static/style.css")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("style.css: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if err := b.store.SetRegistrations(b.ctx, courses.RegistrationsClosed); err != nil {
		t.Fatal(err)
	}
	r = b.get(c, "/")
	mustContain(t, r, "Registrations on this instance are closed")
}
