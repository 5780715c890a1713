package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
)

func TestSignupSignsIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client()
	r := b.get(c, "/signup")
	mustContain(t, r, `name="username"`, `name="password"`)
	mustNotContain(t, r, `name="invite"`)

	r = b.post(c, "/signup", url.Values{"username": {"alice"}, "display_name": {"Alice <3"}, "password": {goodPassword}})
	if r.status != http.StatusSeeOther || r.location != "/" {
		t.Fatalf("sign-up: %d to %q, want 303 to /\n%s", r.status, r.location, r.body)
	}
	cookie := r.header.Get("Set-Cookie")
	for _, attr := range []string{"colearn_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, attr) {
			t.Fatalf("session cookie %q lacks %s", cookie, attr)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Fatalf("cookie %q is Secure although Config.Secure is false", cookie)
	}
	r = b.get(c, "/")
	mustContain(t, r, "Hello, Alice &lt;3!", "@alice@"+b.host, "Sign out")
	if b.count(`SELECT count(*) FROM users WHERE username = 'alice' AND NOT is_admin`) != 1 {
		t.Fatal("no user row")
	}
}

func TestSignupRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(courses.NewUser{Username: "taken", Password: goodPassword})
	tests := []struct {
		name     string
		form     url.Values
		status   int
		message  string
		username string // re-rendered into the form
	}{
		{"short password", url.Values{"username": {"bob"}, "password": {"short"}}, http.StatusUnprocessableEntity, "Password: use at least 10 characters", "bob"},
		{"bad username", url.Values{"username": {"b o b"}, "password": {goodPassword}}, http.StatusUnprocessableEntity, "Username: use 1 to 30", "b o b"},
		{"reserved", url.Values{"username": {"inbox"}, "password": {goodPassword}}, http.StatusUnprocessableEntity, "reserved", "inbox"},
		{"taken", url.Values{"username": {"taken"}, "password": {goodPassword}}, http.StatusUnprocessableEntity, "already taken", "taken"},
		{"escaped", url.Values{"username": {`"><script>x</script>`}, "password": {goodPassword}}, http.StatusUnprocessableEntity, "Username:", "&#34;&gt;&lt;script&gt;x&lt;/script&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := b.client()
			r := b.post(c, "/signup", tt.form)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.status, r.body)
			}
			mustContain(t, r, tt.message, `value="`+tt.username+`"`)
			mustNotContain(t, r, goodPassword, "<script>")
			if len(c.Jar.Cookies(mustURL(t, b.srv.URL))) != 0 {
				t.Fatal("a refused sign-up started a session")
			}
		})
	}
	if n := b.count(`SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
}

func TestSignupClosed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := b.store.SetRegistrations(b.ctx, courses.RegistrationsClosed); err != nil {
		t.Fatal(err)
	}
	c := b.client()
	r := b.get(c, "/signup")
	mustContain(t, r, "Registrations on this instance are closed")
	mustNotContain(t, r, `name="password"`)
	r = b.post(c, "/signup", url.Values{"username": {"carol"}, "password": {goodPassword}})
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", r.status)
	}
	mustContain(t, r, "closed")
	if b.count(`SELECT count(*) FROM users`) != 0 {
		t.Fatal("closed registrations created a user")
	}
}

func TestSignupInvite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.createUser(courses.NewUser{Username: "boss", Password: goodPassword, IsAdmin: true})
	if err := b.store.SetRegistrations(b.ctx, courses.RegistrationsInvite); err != nil {
		t.Fatal(err)
	}
	code, err := b.store.CreateInvite(b.ctx, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := b.client()
	mustContain(t, b.get(c, "/signup?invite="+code), `name="invite"`, `value="`+code+`"`)

	for _, bad := range []string{"", "not-a-code"} {
		r := b.post(c, "/signup", url.Values{"username": {"dan"}, "password": {goodPassword}, "invite": {bad}})
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("invite %q: status %d, want 422", bad, r.status)
		}
		mustContain(t, r, "invite code is not valid")
	}
	if b.count(`SELECT count(*) FROM users WHERE username = 'dan'`) != 0 {
		t.Fatal("bad invite created a user")
	}
	r := b.post(c, "/signup", url.Values{"username": {"dan"}, "password": {goodPassword}, "invite": {code}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("good invite: status %d\n%s", r.status, r.body)
	}
	mustContain(t, b.get(c, "/"), "Hello, dan!")
	// The code is single-use.
	r = b.post(b.client(), "/signup", url.Values{"username": {"eve"}, "password": {goodPassword}, "invite": {code}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("reused invite: status %d, want 422", r.status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
