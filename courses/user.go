package courses

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is a local account. It is also the Person actor that federation
// publishes under the handle Username.
type User struct {
	ID          int64
	Username    string
	DisplayName string
	Summary     string
	IsAdmin     bool
	CreatedAt   time.Time
	// Indexable is the user's opt-in to having their public posts indexed
	// by search on other servers (the actor's indexable); false by default.
	Indexable bool
}

// NewUser is what CreateUser and Register need to make an account.
// InviteCode is read only by Register, and only when sign-ups need an invite.
type NewUser struct {
	Username    string
	Password    string
	DisplayName string
	IsAdmin     bool
	InviteCode  string
}

const userColumns = "id, username, display_name, summary, is_admin, created_at, indexable"

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Summary, &u.IsAdmin, &u.CreatedAt, &u.Indexable)
	return u, err
}

// CreateUser validates nu and stores the account inside tx: the handle row
// (kind 'user') and the user row with an argon2id hash of the password. The
// username is trimmed and lower-cased first. It returns *ValidationError for
// bad input and ErrTaken when the handle is used by a user or a course; of two
// concurrent calls for one name, one wins and the other gets ErrTaken once the
// winner commits. It does not check the registration mode: use Register for
// sign-ups, CreateUser for admins and the CLI.
func (s *Store) CreateUser(ctx context.Context, tx pgx.Tx, nu NewUser) (User, error) {
	nu.Username = normalizeUsername(nu.Username)
	nu.DisplayName = strings.TrimSpace(nu.DisplayName)
	if err := validateNewUser(nu); err != nil {
		return User{}, fmt.Errorf("create user %q: %w", nu.Username, err)
	}
	hash, err := hashPassword(nu.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", nu.Username, err)
	}
	// ON CONFLICT keeps tx usable and, under concurrency, waits for the other
	// inserter to commit or roll back before deciding.
	tag, err := tx.Exec(ctx, `INSERT INTO handles (name, kind) VALUES ($1, 'user') ON CONFLICT (name) DO NOTHING`, nu.Username)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: insert handle: %w", nu.Username, err)
	}
	if tag.RowsAffected() == 0 {
		return User{}, fmt.Errorf("create user %q: %w", nu.Username, ErrTaken)
	}
	u, err := scanUser(tx.QueryRow(ctx, `
		INSERT INTO users (username, display_name, password_hash, is_admin)
		VALUES ($1, $2, $3, $4)
		RETURNING `+userColumns, nu.Username, nu.DisplayName, hash, nu.IsAdmin))
	if err != nil {
		if isUniqueViolation(err) {
			err = ErrTaken
		}
		return User{}, fmt.Errorf("create user %q: %w", nu.Username, err)
	}
	if err := s.Changed(ctx, tx, UsageScope, UserScope(u.Username)); err != nil {
		return User{}, err
	}
	return u, nil
}

// UserByUsername returns the user named username (case-insensitive), or
// ErrNotFound.
func (s *Store) UserByUsername(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, normalizeUsername(username)))
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", username, notFound(err))
	}
	return u, nil
}

// UserByID returns the user with id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, notFound(err))
	}
	return u, nil
}

// SetProfile replaces the display name and summary of a user and returns the
// updated user. Both are stored as plain text (escape when rendering). It
// returns *ValidationError when either is too long, ErrNotFound for an
// unknown user.
func (s *Store) SetProfile(ctx context.Context, userID int64, displayName, summary string) (User, error) {
	displayName, summary = strings.TrimSpace(displayName), strings.TrimSpace(summary)
	if err := validateProfile(displayName, summary); err != nil {
		return User{}, fmt.Errorf("set profile of user %d: %w", userID, err)
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `
		UPDATE users SET display_name = $2, summary = $3 WHERE id = $1
		RETURNING `+userColumns, userID, displayName, summary))
	if err != nil {
		return User{}, fmt.Errorf("set profile of user %d: %w", userID, notFound(err))
	}
	if err := s.Changed(ctx, s.pool, UserScope(u.Username)); err != nil {
		return User{}, err
	}
	return u, nil
}

// SetIndexable records whether the user opts in to search indexing of their
// public posts, and returns the updated user; ErrNotFound for an unknown
// user.
func (s *Store) SetIndexable(ctx context.Context, userID int64, indexable bool) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `UPDATE users SET indexable = $2 WHERE id = $1 RETURNING `+userColumns, userID, indexable))
	if err != nil {
		return User{}, fmt.Errorf("set indexable of user %d: %w", userID, notFound(err))
	}
	if err := s.Changed(ctx, s.pool, UserScope(u.Username)); err != nil {
		return User{}, err
	}
	return u, nil
}
