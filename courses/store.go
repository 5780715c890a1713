package courses

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store reads and writes the domain's tables. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	content Content
	// ChangingFunc, when set, is told by Changed which scopes a transaction
	// is about to change, with the token its notice will carry. Set it
	// before the store is used; it must not block.
	ChangingFunc func(token string, scopes []Scope)
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Content returns the store's HTML sanitiser and Markdown renderer.
func (s *Store) Content() *Content { return &s.content }

// notFound turns pgx.ErrNoRows into ErrNotFound and leaves other errors be.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Querier is what a pgx transaction and a pool have in common: store
// functions that take one run inside the caller's transaction, so a domain
// change and the deliveries it causes commit together.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Pool is the store's connection pool, for reads outside a transaction.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
