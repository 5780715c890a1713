package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/colearn/colearn/courses"
)

func TestSignin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(courses.NewUser{Username: "frank", Password: goodPassword, DisplayName: "Frank"})
	u := mustURL(t, b.srv.URL)

	tests := []struct {
		name, username, password string
	}{
		{"wrong password", "frank", "not the password"},
		{"unknown user", "nobody", goodPassword},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := b.client()
			r := b.post(c, "/signin", url.Values{"username": {tt.username}, "password": {tt.password}})
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", r.status)
			}
			mustContain(t, r, "Wrong username or password.")
			if len(c.Jar.Cookies(u)) != 0 || b.count(`SELECT count(*) FROM sessions`) != 0 {
				t.Fatal("a failed sign-in started a session")
			}
			mustContain(t, b.get(c, "/"), `href="/signin"`)
		})
	}

	c := b.client()
	// A token planted by an attacker must not survive sign-in.
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "colearn_session", Value: "planted"}})
	r := b.post(c, "/signin", url.Values{"username": {"Frank"}, "password": {goodPassword}, "next": {"/@frank"}})
	if r.status != http.StatusSeeOther || r.location != "/@frank" {
		t.Fatalf("sign-in: %d to %q", r.status, r.location)
	}
	cookies := c.Jar.Cookies(u)
	if len(cookies) != 1 || cookies[0].Value == "planted" {
		t.Fatalf("session cookie not renewed: %v", cookies)
	}
	mustContain(t, b.get(c, "/"), "Hello, Frank!")
}

func TestSigninNextStaysLocal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createUser(courses.NewUser{Username: "gina", Password: goodPassword})
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", ""} {
		r := b.post(b.client(), "/signin", url.Values{"username": {"gina"}, "password": {goodPassword}, "next": {next}})
		if r.status != http.StatusSeeOther || r.location != "/" {
			t.Fatalf("next %q: %d to %q, want 303 to /", next, r.status, r.location)
		}
	}
}

func TestSignout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn("hank", false)
	u := mustURL(t, b.srv.URL)
	old := c.Jar.Cookies(u)
	mustContain(t, b.get(c, "/"), "Hello, hank!")

	r := b.post(c, "/signout", url.Values{})
	if r.status != http.StatusSeeOther || r.location != "/" {
		t.Fatalf("sign-out: %d to %q", r.status, r.location)
	}
	mustContain(t, b.get(c, "/"), `href="/signin"`)

	// Replaying the old cookie must not sign anyone in: the session is gone
	// on the server too.
	replay := b.client()
	replay.Jar.SetCookies(u, old)
	r = b.get(replay, "/")
	mustNotContain(t, r, "Hello, hank!")
	if b.count(`SELECT count(*) FROM sessions`) != 0 {
		t.Fatal("session row survived sign-out")
	}
}
