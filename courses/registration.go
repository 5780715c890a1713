package courses

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RegistrationMode says who may sign up on this instance.
type RegistrationMode string

// The registration modes.
const (
	RegistrationsOpen   RegistrationMode = "open"   // anyone
	RegistrationsClosed RegistrationMode = "closed" // nobody; admins create accounts
	RegistrationsInvite RegistrationMode = "invite" // whoever has an unused invite code
)

// Valid reports whether m is one of the known modes.
func (m RegistrationMode) Valid() bool {
	return m == RegistrationsOpen || m == RegistrationsClosed || m == RegistrationsInvite
}

// querier is what pool and tx have in common for single-row reads.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// DefaultRegistrations is a fresh instance's mode: invitation-only, so
// that an instance nobody has configured yet is not an open sign-up form
// for spammers. An admin opens registrations at /admin/settings.
const DefaultRegistrations = RegistrationsInvite

func registrations(ctx context.Context, q querier) (RegistrationMode, error) {
	var m RegistrationMode
	err := q.QueryRow(ctx, `SELECT value FROM instance_settings WHERE key = 'registrations'`).Scan(&m)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultRegistrations, nil
	}
	if err != nil {
		return "", fmt.Errorf("read registration mode: %w", notFound(err))
	}
	if !m.Valid() {
		return "", fmt.Errorf("read registration mode: unknown mode %q", m)
	}
	return m, nil
}

// Registrations returns the instance's registration mode.
func (s *Store) Registrations(ctx context.Context) (RegistrationMode, error) {
	return registrations(ctx, s.pool)
}

// SetRegistrations changes the registration mode. An unknown mode is a
// *ValidationError.
func (s *Store) SetRegistrations(ctx context.Context, m RegistrationMode) error {
	if !m.Valid() {
		return fmt.Errorf("set registration mode: %w", &ValidationError{"registrations", "choose open, closed or invite"})
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO instance_settings (key, value) VALUES ('registrations', $1)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, string(m))
	if err == nil {
		err = s.Changed(ctx, s.pool, SiteScope) // NodeInfo's openRegistrations, the home page
	}
	if err != nil {
		return fmt.Errorf("set registration mode %q: %w", m, err)
	}
	return nil
}

// Register is the sign-up rule. It reads the registration mode in tx: when
// closed it returns ErrRegistrationsClosed; when invite-only it locks the
// invite nu.InviteCode and returns ErrBadInvite unless it exists and is
// unused. It then creates the user with CreateUser (same errors) and marks the
// invite used by the new user. nu.IsAdmin is ignored: sign-ups never make
// admins. Roll tx back on any error, so that a consumed invite is restored.
func (s *Store) Register(ctx context.Context, tx pgx.Tx, nu NewUser) (User, error) {
	mode, err := registrations(ctx, tx)
	if err != nil {
		return User{}, fmt.Errorf("register: %w", err)
	}
	nu.IsAdmin = false
	switch mode {
	case RegistrationsClosed:
		return User{}, fmt.Errorf("register %q: %w", nu.Username, ErrRegistrationsClosed)
	case RegistrationsInvite:
		if err := lockInvite(ctx, tx, nu.InviteCode); err != nil {
			return User{}, fmt.Errorf("register %q: %w", nu.Username, err)
		}
	}
	u, err := s.CreateUser(ctx, tx, nu)
	if err != nil {
		return User{}, fmt.Errorf("register: %w", err)
	}
	if mode == RegistrationsInvite {
		if err := useInvite(ctx, tx, nu.InviteCode, u.ID); err != nil {
			return User{}, fmt.Errorf("register %q: %w", nu.Username, err)
		}
	}
	return u, nil
}
