package courses_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

const goodPassword = "correct horse battery"

func TestCreateUser(t *testing.T) {
	t.Parallel()
	b := setup(t)
	mustCreate(t, b, courses.NewUser{Username: "existing", Password: goodPassword})
	if _, err := b.pool.Exec(b.ctx, `INSERT INTO handles (name, kind) VALUES ('go_course', 'course')`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		nu        courses.NewUser
		wantName  string
		wantField string // non-empty: a *ValidationError on this field
		wantErr   error
	}{
		{name: "ok", nu: courses.NewUser{Username: "alice", Password: goodPassword, DisplayName: " Alice "}, wantName: "alice"},
		{name: "normalised", nu: courses.NewUser{Username: " Bob_2 ", Password: goodPassword}, wantName: "bob_2"},
		{name: "admin", nu: courses.NewUser{Username: "root_admin", Password: goodPassword, IsAdmin: true}, wantName: "root_admin"},
		{name: "empty", nu: courses.NewUser{Username: "", Password: goodPassword}, wantField: "username"},
		{name: "hyphen", nu: courses.NewUser{Username: "a-b", Password: goodPassword}, wantField: "username"},
		{name: "unicode", nu: courses.NewUser{Username: "zoë", Password: goodPassword}, wantField: "username"},
		{name: "too long", nu: courses.NewUser{Username: strings.Repeat("a", 31), Password: goodPassword}, wantField: "username"},
		{name: "reserved", nu: courses.NewUser{Username: "inbox", Password: goodPassword}, wantField: "username"},
		{name: "reserved upper", nu: courses.NewUser{Username: "NodeInfo", Password: goodPassword}, wantField: "username"},
		{name: "short password", nu: courses.NewUser{Username: "carol", Password: "123456789"}, wantField: "password"},
		{name: "long display name", nu: courses.NewUser{Username: "dave", Password: goodPassword, DisplayName: strings.Repeat("x", 101)}, wantField: "display_name"},
		{name: "taken by user", nu: courses.NewUser{Username: "Existing", Password: goodPassword}, wantErr: courses.ErrTaken},
		{name: "taken by course", nu: courses.NewUser{Username: "go_course", Password: goodPassword}, wantErr: courses.ErrTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := inTx(t, b, func(tx pgx.Tx) (courses.User, error) { return b.store.CreateUser(b.ctx, tx, tt.nu) })
			var verr *courses.ValidationError
			switch {
			case tt.wantField != "":
				if !errors.As(err, &verr) || verr.Field != tt.wantField {
					t.Fatalf("err = %v, want validation error on %s", err, tt.wantField)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if u.Username != tt.wantName || u.IsAdmin != tt.nu.IsAdmin || u.ID == 0 || u.CreatedAt.IsZero() {
					t.Fatalf("got %+v", u)
				}
				if u.DisplayName != strings.TrimSpace(tt.nu.DisplayName) {
					t.Fatalf("display name %q", u.DisplayName)
				}
				got, err := b.store.UserByID(b.ctx, u.ID)
				if err != nil || got != u {
					t.Fatalf("UserByID = %+v, %v; want %+v", got, err, u)
				}
				if kind, err := b.store.HandleKind(b.ctx, u.Username); err != nil || kind != courses.HandleUser {
					t.Fatalf("HandleKind = %q, %v", kind, err)
				}
			}
		})
	}
	if n := count(t, b, `SELECT count(*) FROM users`); n != 4 {
		t.Fatalf("%d users, want 4", n)
	}
	if n := count(t, b, `SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$v=19$%'`); n != 4 {
		t.Fatalf("%d argon2id hashes, want 4", n)
	}
}

// Two sign-ups racing for one name: exactly one wins, the other sees ErrTaken.
func TestCreateUserConcurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for round := range 5 {
		name := "racer" + string(rune('a'+round))
		start := make(chan struct{})
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				<-start
				_, errs[i] = inTx(t, b, func(tx pgx.Tx) (courses.User, error) {
					return b.store.CreateUser(b.ctx, tx, courses.NewUser{Username: name, Password: goodPassword})
				})
			})
		}
		close(start)
		wg.Wait()
		taken := 0
		for _, err := range errs {
			if errors.Is(err, courses.ErrTaken) {
				taken++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if taken != 1 {
			t.Fatalf("round %d: %d ErrTaken, want 1 (%v)", round, taken, errs)
		}
		if n := count(t, b, `SELECT count(*) FROM users WHERE username = $1`, name); n != 1 {
			t.Fatalf("%d rows for %s", n, name)
		}
	}
}

// The loser of a race that is forced to overlap waits for the winner's commit.
func TestCreateUserWaitsForOtherTx(t *testing.T) {
	t.Parallel()
	b := setup(t)
	nu := courses.NewUser{Username: "overlap", Password: goodPassword}
	tx1, err := b.pool.Begin(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback(b.ctx)
	if _, err := b.store.CreateUser(b.ctx, tx1, nu); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := inTx(t, b, func(tx pgx.Tx) (courses.User, error) { return b.store.CreateUser(b.ctx, tx, nu) })
		done <- err
	}()
	if err := tx1.Commit(b.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, courses.ErrTaken) {
		t.Fatalf("second CreateUser: %v, want ErrTaken", err)
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u := mustCreate(t, b, courses.NewUser{Username: "erin", Password: goodPassword, DisplayName: "Erin"})
	if got, err := b.store.UserByUsername(b.ctx, "ERIN"); err != nil || got != u {
		t.Fatalf("UserByUsername = %+v, %v", got, err)
	}
	if _, err := b.store.UserByUsername(b.ctx, "nobody"); !errors.Is(err, courses.ErrNotFound) {
		t.Fatalf("unknown username: %v", err)
	}
	if _, err := b.store.UserByID(b.ctx, u.ID+1000); !errors.Is(err, courses.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := b.store.HandleKind(b.ctx, "nobody"); !errors.Is(err, courses.ErrNotFound) {
		t.Fatalf("unknown handle: %v", err)
	}
}

func TestSetProfile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u := mustCreate(t, b, courses.NewUser{Username: "frank", Password: goodPassword})
	got, err := b.store.SetProfile(b.ctx, u.ID, " Frank <b>F</b> ", "Learns Go.")
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "Frank <b>F</b>" || got.Summary != "Learns Go." {
		t.Fatalf("got %+v", got)
	}
	var verr *courses.ValidationError
	if _, err := b.store.SetProfile(b.ctx, u.ID, "ok", strings.Repeat("s", 2001)); !errors.As(err, &verr) || verr.Field != "summary" {
		t.Fatalf("long summary: %v", err)
	}
	if _, err := b.store.SetProfile(b.ctx, u.ID+1000, "x", ""); !errors.Is(err, courses.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}
