package courses_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/colearn/colearn/courses"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u := mustCreate(t, b, courses.NewUser{Username: "grace", Password: goodPassword})
	if _, err := b.pool.Exec(b.ctx, `UPDATE users SET last_active = now() - interval '1 year'`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password string
		wantErr                  error
	}{
		{"wrong password", "grace", "incorrect horse", courses.ErrBadCredentials},
		{"unknown user", "heidi", goodPassword, courses.ErrBadCredentials},
		{"empty", "", "", courses.ErrBadCredentials},
		{"huge password", "grace", strings.Repeat("p", 5000), courses.ErrBadCredentials},
		{"right", "grace", goodPassword, nil},
		{"case-insensitive name", " Grace", goodPassword, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.store.Authenticate(b.ctx, tt.username, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && got != u {
				t.Fatalf("got %+v, want %+v", got, u)
			}
			if tt.wantErr != nil {
				if errors.Is(err, courses.ErrNotFound) {
					t.Fatal("error reveals that the user does not exist")
				}
				if n := count(t, b, `SELECT count(*) FROM users WHERE last_active > now() - interval '1 day'`); n != 0 {
					t.Fatal("a failed sign-in counted as activity")
				}
			}
		})
	}
	if n := count(t, b, `SELECT count(*) FROM users WHERE last_active > now() - interval '1 day'`); n != 1 {
		t.Fatal("sign-in did not update last_active")
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if got, err := b.store.Usage(b.ctx); err != nil || got != (courses.Usage{}) {
		t.Fatalf("empty instance: %+v, %v", got, err)
	}
	for _, name := range []string{"now", "twomonths", "ayear"} {
		mustCreate(t, b, courses.NewUser{Username: name, Password: goodPassword})
	}
	if _, err := b.pool.Exec(b.ctx, `UPDATE users SET last_active = now() - interval '60 days' WHERE username = 'twomonths'`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(b.ctx, `UPDATE users SET last_active = now() - interval '365 days' WHERE username = 'ayear'`); err != nil {
		t.Fatal(err)
	}
	got, err := b.store.Usage(b.ctx)
	want := courses.Usage{Users: 3, ActiveMonth: 1, ActiveHalfyear: 2}
	if err != nil || got != want {
		t.Fatalf("Usage = %+v, %v; want %+v", got, err, want)
	}
}
