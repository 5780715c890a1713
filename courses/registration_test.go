package courses_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

func TestRegistrationsSetting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if m, err := b.store.Registrations(b.ctx); err != nil || m != courses.RegistrationsInvite {
		t.Fatalf("a fresh instance's mode = %q, %v; want invite", m, err)
	}
	for _, m := range []courses.RegistrationMode{courses.RegistrationsInvite, courses.RegistrationsClosed, courses.RegistrationsOpen} {
		if err := b.store.SetRegistrations(b.ctx, m); err != nil {
			t.Fatal(err)
		}
		if got, err := b.store.Registrations(b.ctx); err != nil || got != m {
			t.Fatalf("mode = %q, %v; want %q", got, err, m)
		}
	}
	var verr *courses.ValidationError
	if err := b.store.SetRegistrations(b.ctx, "everyone"); !errors.As(err, &verr) {
		t.Fatalf("unknown mode: %v", err)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := mustCreate(t, b, courses.NewUser{Username: "admin_ivan", Password: goodPassword, IsAdmin: true})
	used, err := b.store.CreateInvite(b.ctx, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustRegister := func(nu courses.NewUser) (courses.User, error) {
		return inTx(t, b, func(tx pgx.Tx) (courses.User, error) { return b.store.Register(b.ctx, tx, nu) })
	}
	if err := b.store.SetRegistrations(b.ctx, courses.RegistrationsInvite); err != nil {
		t.Fatal(err)
	}
	if _, err := mustRegister(courses.NewUser{Username: "first", Password: goodPassword, InviteCode: used}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		mode    courses.RegistrationMode
		invite  bool // use a fresh invite code
		nu      courses.NewUser
		wantErr error
	}{
		{name: "open", mode: courses.RegistrationsOpen, nu: courses.NewUser{Username: "judy", Password: goodPassword}},
		{name: "open ignores IsAdmin", mode: courses.RegistrationsOpen, nu: courses.NewUser{Username: "mallory", Password: goodPassword, IsAdmin: true}},
		{name: "open, taken", mode: courses.RegistrationsOpen, nu: courses.NewUser{Username: "judy", Password: goodPassword}, wantErr: courses.ErrTaken},
		{name: "closed", mode: courses.RegistrationsClosed, nu: courses.NewUser{Username: "ken", Password: goodPassword}, wantErr: courses.ErrRegistrationsClosed},
		{name: "invite missing", mode: courses.RegistrationsInvite, nu: courses.NewUser{Username: "leo", Password: goodPassword}, wantErr: courses.ErrBadInvite},
		{name: "invite unknown", mode: courses.RegistrationsInvite, nu: courses.NewUser{Username: "leo", Password: goodPassword, InviteCode: "nope"}, wantErr: courses.ErrBadInvite},
		{name: "invite used", mode: courses.RegistrationsInvite, nu: courses.NewUser{Username: "leo", Password: goodPassword, InviteCode: used}, wantErr: courses.ErrBadInvite},
		{name: "invite good", mode: courses.RegistrationsInvite, invite: true, nu: courses.NewUser{Username: "leo", Password: goodPassword}},
		{name: "invite good, bad password", mode: courses.RegistrationsInvite, invite: true, nu: courses.NewUser{Username: "mia", Password: "short"}, wantErr: &courses.ValidationError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.store.SetRegistrations(b.ctx, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.invite {
				if tt.nu.InviteCode, err = b.store.CreateInvite(b.ctx, admin.ID); err != nil {
					t.Fatal(err)
				}
			}
			before := count(t, b, `SELECT count(*) FROM users`)
			u, err := mustRegister(tt.nu)
			var verr *courses.ValidationError
			if _, wantV := tt.wantErr.(*courses.ValidationError); wantV {
				if !errors.As(err, &verr) {
					t.Fatalf("err = %v, want a validation error", err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			after := count(t, b, `SELECT count(*) FROM users`)
			if tt.wantErr != nil {
				if after != before {
					t.Fatal("a refused sign-up created a user")
				}
				if tt.invite && count(t, b, `SELECT count(*) FROM invites WHERE code = $1 AND used_at IS NULL`, tt.nu.InviteCode) != 1 {
					t.Fatal("a refused sign-up used up its invite")
				}
				return
			}
			if after != before+1 || u.IsAdmin {
				t.Fatalf("users %d → %d, user %+v", before, after, u)
			}
			if tt.invite && count(t, b, `SELECT count(*) FROM invites WHERE code = $1 AND used_by = $2 AND used_at IS NOT NULL`, tt.nu.InviteCode, u.ID) != 1 {
				t.Fatal("invite not marked used by the new user")
			}
		})
	}
}

// One invite, two sign-ups at once: one gets in, the other gets ErrBadInvite.
func TestRegisterInviteRace(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := mustCreate(t, b, courses.NewUser{Username: "boss", Password: goodPassword, IsAdmin: true})
	if err := b.store.SetRegistrations(b.ctx, courses.RegistrationsInvite); err != nil {
		t.Fatal(err)
	}
	code, err := b.store.CreateInvite(b.ctx, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, name := range []string{"nina", "oscar"} {
		wg.Go(func() {
			_, errs[i] = inTx(t, b, func(tx pgx.Tx) (courses.User, error) {
				return b.store.Register(b.ctx, tx, courses.NewUser{Username: name, Password: goodPassword, InviteCode: code})
			})
		})
	}
	wg.Wait()
	bad := 0
	for _, err := range errs {
		if errors.Is(err, courses.ErrBadInvite) {
			bad++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if bad != 1 || count(t, b, `SELECT count(*) FROM users`) != 2 {
		t.Fatalf("errors %v; want exactly one ErrBadInvite and one new user", errs)
	}
}
