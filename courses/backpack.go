package courses

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BackpackItem is a credential a local user received, from any issuer.
// It was verified before it was kept; pages verify it again when shown.
type BackpackItem struct {
	ID           int64
	UserID       int64
	CredentialID string
	IssuerIRI    string
	IssuerName   string
	Name         string
	Description  string
	ImageURL     string
	Credential   []byte
	ReceivedAt   time.Time
	RevokedAt    *time.Time
}

const backpackColumns = `id, user_id, credential_id, issuer_iri, issuer_name, name, description, image_url, credential, received_at, revoked_at`

func scanBackpack(row pgx.Row) (BackpackItem, error) {
	var b BackpackItem
	var cred string
	err := row.Scan(&b.ID, &b.UserID, &b.CredentialID, &b.IssuerIRI, &b.IssuerName, &b.Name, &b.Description, &b.ImageURL, &cred, &b.ReceivedAt, &b.RevokedAt)
	b.Credential = []byte(cred)
	return b, err
}

// KeepCredential puts a verified credential in a user's backpack. Keeping
// one twice is harmless: the first copy stays and fresh is false.
func (s *Store) KeepCredential(ctx context.Context, q Querier, b BackpackItem) (kept BackpackItem, fresh bool, err error) {
	kept, err = scanBackpack(q.QueryRow(ctx, `
		INSERT INTO backpack (user_id, credential_id, issuer_iri, issuer_name, name, description, image_url, credential)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, credential_id) DO NOTHING RETURNING `+backpackColumns,
		b.UserID, b.CredentialID, b.IssuerIRI, b.IssuerName, b.Name, b.Description, b.ImageURL, string(b.Credential)))
	if err == nil {
		// The profile shows the backpack: its cached page must go.
		if err := s.backpackChanged(ctx, q, b.UserID); err != nil {
			return kept, false, err
		}
		return kept, true, nil
	}
	if err != pgx.ErrNoRows {
		return kept, false, fmt.Errorf("keep credential %s: %w", b.CredentialID, err)
	}
	kept, err = scanBackpack(q.QueryRow(ctx, `SELECT `+backpackColumns+` FROM backpack WHERE user_id = $1 AND credential_id = $2`, b.UserID, b.CredentialID))
	return kept, false, err
}

// Backpack lists a user's credentials, newest first.
func (s *Store) Backpack(ctx context.Context, q Querier, userID int64) ([]BackpackItem, error) {
	rows, err := q.Query(ctx, `SELECT `+backpackColumns+` FROM backpack WHERE user_id = $1 ORDER BY received_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("backpack of user %d: %w", userID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BackpackItem, error) { return scanBackpack(r) })
}

// BackpackItemByID returns item id of a user's backpack, or ErrNotFound.
func (s *Store) BackpackItemByID(ctx context.Context, q Querier, userID, id int64) (BackpackItem, error) {
	b, err := scanBackpack(q.QueryRow(ctx, `SELECT `+backpackColumns+` FROM backpack WHERE user_id = $1 AND id = $2`, userID, id))
	if err != nil {
		return b, fmt.Errorf("backpack item %d: %w", id, notFound(err))
	}
	return b, nil
}

// MarkRevoked marks every kept copy of the credential credentialID, issued
// by issuer, revoked; it returns how many it marked.
func (s *Store) MarkRevoked(ctx context.Context, q Querier, credentialID, issuer string) (int64, error) {
	rows, err := q.Query(ctx, `UPDATE backpack SET revoked_at = now() WHERE credential_id = $1 AND issuer_iri = $2 AND revoked_at IS NULL
		RETURNING user_id`, credentialID, issuer)
	if err != nil {
		return 0, fmt.Errorf("mark %s revoked: %w", credentialID, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("mark %s revoked: %w", credentialID, err)
	}
	for _, id := range users {
		if err := s.backpackChanged(ctx, q, id); err != nil {
			return 0, err
		}
	}
	return int64(len(users)), nil
}

// backpackChanged tells the document caches that the profile of user
// userID, which shows the backpack, changed.
func (s *Store) backpackChanged(ctx context.Context, q Querier, userID int64) error {
	var username string
	if err := q.QueryRow(ctx, `SELECT username FROM users WHERE id = $1`, userID).Scan(&username); err != nil {
		return fmt.Errorf("backpack of user %d: %w", userID, notFound(err))
	}
	return s.Changed(ctx, q, UserScope(username))
}
