package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/colearn/colearn/courses"
)

func TestAdminSettingsAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name     string
		client   *http.Client
		status   int
		location string
	}{
		{"anonymous", b.client(), http.StatusSeeOther, "/signin?next=%2Fadmin%2Fsettings"},
		{"member", b.signedIn("ivy", false), http.StatusForbidden, ""},
		{"admin", b.signedIn("root_jo", true), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(tt.client, "/admin/settings")
			if r.status != tt.status || r.location != tt.location {
				t.Fatalf("GET: %d to %q, want %d to %q", r.status, r.location, tt.status, tt.location)
			}
			r = b.post(tt.client, "/admin/settings", url.Values{"action": {"registrations"}, "mode": {"closed"}})
			if tt.status != http.StatusOK {
				if r.status != tt.status {
					t.Fatalf("POST: %d, want %d", r.status, tt.status)
				}
				if m, _ := b.store.Registrations(b.ctx); m != courses.RegistrationsOpen {
					t.Fatalf("a %s changed the registration mode to %q", tt.name, m)
				}
				return
			}
			if r.status != http.StatusOK {
				t.Fatalf("admin POST: %d\n%s", r.status, r.body)
			}
			mustContain(t, r, `<option value="closed" selected>`)
			if m, _ := b.store.Registrations(b.ctx); m != courses.RegistrationsClosed {
				t.Fatalf("mode %q, want closed", m)
			}
		})
	}
}

func TestAdminSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn("root_kim", true)
	mustContain(t, b.get(c, "/"), `href="/admin/settings"`)

	r := b.post(c, "/admin/settings", url.Values{"action": {"registrations"}, "mode": {"everyone"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad mode: %d, want 422", r.status)
	}
	r = b.post(c, "/admin/settings", url.Values{"action": {"registrations"}, "mode": {"invite"}})
	mustContain(t, r, `<option value="invite" selected>`, "Saved.")

	r = b.post(c, "/admin/settings", url.Values{"action": {"invite"}})
	m := regexp.MustCompile(`class="invite-code">([A-Za-z0-9_-]+)<`).FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		t.Fatalf("create invite: %d\n%s", r.status, r.body)
	}
	code := m[1]
	if b.count(`SELECT count(*) FROM invites WHERE code = $1 AND used_at IS NULL`, code) != 1 {
		t.Fatal("shown invite code is not stored")
	}
	mustContain(t, r, "/signup?invite="+code)

	// The code works for a sign-up.
	r = b.post(b.client(), "/signup", url.Values{"username": {"lena"}, "password": {goodPassword}, "invite": {code}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign-up with new invite: %d\n%s", r.status, r.body)
	}
}
