package courses

import (
	"context"
	"errors"
	"fmt"
)

// Authenticate checks a username and password and returns the user, recording
// the sign-in as activity (last_active). A wrong password or an unknown user
// is ErrBadCredentials; both take about as long, so timing does not reveal
// which usernames exist.
func (s *Store) Authenticate(ctx context.Context, username, password string) (User, error) {
	var (
		u    User
		hash string
	)
	err := s.pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE username = $1`,
		normalizeUsername(username)).Scan(&u.ID, &u.Username, &u.DisplayName, &u.Summary, &u.IsAdmin, &u.CreatedAt, &u.Indexable, &hash)
	if err = notFound(err); err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("authenticate %q: %w", username, err)
	}
	known := err == nil
	if !known {
		hash = dummyHash
	}
	if len(password) > MaxPasswordLen {
		password = password[:MaxPasswordLen] // still hash, to keep timing; cannot match
		known = false
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		return User{}, fmt.Errorf("authenticate %q: %w", username, err)
	}
	if !ok || !known {
		return User{}, fmt.Errorf("authenticate %q: %w", username, ErrBadCredentials)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE users SET last_active = now() WHERE id = $1`, u.ID); err != nil {
		return User{}, fmt.Errorf("authenticate %q: record activity: %w", username, err)
	}
	return u, nil
}
