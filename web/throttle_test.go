package web_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/web"
)

// clientFrom is a browser whose connections come from the loopback
// address ip (any of 127.0.0.0/8 works on Linux).
func (b *bundle) clientFrom(ip string) *http.Client {
	c := b.client()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// waitSignIn polls until the right password signs in, within d.
func (b *bundle) waitSignIn(c *http.Client, username string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		r := b.post(c, "/signin", url.Values{"username": {username}, "password": {goodPassword}})
		if r.status == http.StatusSeeOther {
			return
		}
		if r.status != http.StatusTooManyRequests || time.Now().After(deadline) {
			b.t.Fatalf("right password after the window: %d\n%s", r.status, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The windows are 30 s rather than a minute, to keep the tests shorter,
// and long enough that twenty attempts (each an argon2 hash) fit in one
// on a heavily loaded machine (they took up to 19 s here).

// The 21st wrong password from one address within the window gets 429
// with Retry-After, whichever accounts it tries, and the right password
// then fails too (it is not even checked); after the window it works.
func TestSigninThrottledPerAddress(t *testing.T) {
	t.Parallel()
	b := setupThrottled(t, web.Throttle{Window: 30 * time.Second})
	b.createUser(courses.NewUser{Username: "ann", Password: goodPassword})
	c := b.clientFrom("127.0.0.1")
	for i := 1; i <= 20; i++ {
		// Spread over 20 accounts, so no per-account limit is reached.
		r := b.post(c, "/signin", url.Values{"username": {fmt.Sprintf("user%d", i)}, "password": {"wrong password"}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401\n%s", i, r.status, r.body)
		}
	}
	r := b.post(c, "/signin", url.Values{"username": {"ann"}, "password": {goodPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("21st attempt: %d, Retry-After %q; want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	mustContain(t, r, "Too many attempts")
	if len(c.Jar.Cookies(mustURL(t, b.srv.URL))) != 0 {
		t.Fatal("a throttled sign-in started a session")
	}
	// Another address is not affected.
	if r := b.post(b.clientFrom("127.0.0.2"), "/signin", url.Values{"username": {"ann"}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in from another address: %d", r.status)
	}
	b.waitSignIn(c, "ann", 90*time.Second)
}

// Twenty wrong passwords for one account, each from its own address, lock
// that account's sign-in for the window, not others'.
func TestSigninThrottledPerAccount(t *testing.T) {
	t.Parallel()
	b := setupThrottled(t, web.Throttle{Window: 30 * time.Second})
	b.createUser(courses.NewUser{Username: "ann", Password: goodPassword})
	b.createUser(courses.NewUser{Username: "bob", Password: goodPassword})
	for i := 1; i <= 20; i++ {
		c := b.clientFrom(fmt.Sprintf("127.0.1.%d", i))
		if r := b.post(c, "/signin", url.Values{"username": {"Ann"}, "password": {"wrong password"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i, r.status)
		}
	}
	c := b.clientFrom("127.0.2.1")
	if r := b.post(c, "/signin", url.Values{"username": {"ann"}, "password": {goodPassword}}); r.status != http.StatusTooManyRequests {
		t.Fatalf("21st attempt on ann: %d, want 429", r.status)
	}
	if r := b.post(c, "/signin", url.Values{"username": {"bob"}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("bob from the same address: %d, want 303", r.status)
	}
	b.waitSignIn(b.clientFrom("127.0.2.2"), "ann", 90*time.Second)
}

// Sign-ups are throttled per address too, and the throttled one creates
// no account.
func TestSignupThrottled(t *testing.T) {
	t.Parallel()
	b := setupThrottled(t, web.Throttle{Attempts: 3, Window: time.Minute})
	c := b.clientFrom("127.0.0.1")
	for i := 1; i <= 3; i++ {
		r := b.post(b.clientFrom("127.0.0.1"), "/signup", url.Values{"username": {fmt.Sprintf("new%d", i)}, "password": {goodPassword}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("sign-up %d: %d\n%s", i, r.status, r.body)
		}
	}
	r := b.post(c, "/signup", url.Values{"username": {"new4"}, "password": {goodPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th sign-up: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if n := b.count(`SELECT count(*) FROM users WHERE username = 'new4'`); n != 0 {
		t.Fatal("a throttled sign-up created the account")
	}
}
