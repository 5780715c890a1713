package courses

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CreateInvite stores a new single-use invite code made by the user
// createdBy and returns it. Codes are 128 random bits, URL-safe base64.
func (s *Store) CreateInvite(ctx context.Context, createdBy int64) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("create invite: %w", err)
	}
	code := base64.RawURLEncoding.EncodeToString(b)
	if _, err := s.pool.Exec(ctx, `INSERT INTO invites (code, created_by) VALUES ($1, $2)`, code, createdBy); err != nil {
		return "", fmt.Errorf("create invite by user %d: %w", createdBy, err)
	}
	return code, nil
}

// lockInvite locks the unused invite code in tx, so that two sign-ups cannot
// both use it, or returns ErrBadInvite.
func lockInvite(ctx context.Context, tx pgx.Tx, code string) error {
	code = strings.TrimSpace(code)
	if code == "" {
		return ErrBadInvite
	}
	var found string
	err := tx.QueryRow(ctx, `SELECT code FROM invites WHERE code = $1 AND used_at IS NULL FOR UPDATE`, code).Scan(&found)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrBadInvite
		}
		return fmt.Errorf("lock invite: %w", err)
	}
	return nil
}

// useInvite marks a locked invite as used by userID.
func useInvite(ctx context.Context, tx pgx.Tx, code string, userID int64) error {
	tag, err := tx.Exec(ctx, `UPDATE invites SET used_by = $2, used_at = now() WHERE code = $1 AND used_at IS NULL`,
		strings.TrimSpace(code), userID)
	if err != nil {
		return fmt.Errorf("use invite: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return ErrBadInvite
	}
	return nil
}
