package courses

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// maxChangePayload keeps one change notice well under PostgreSQL's NOTIFY
// payload limit (8,000 bytes).
const maxChangePayload = 7000

// changeBatch gathers the scopes Changed is told of inside DeferChanges,
// each once.
type changeBatch struct {
	seen   map[Scope]bool
	scopes []Scope
	// slugs are local courses whose scope is to be announced, found by
	// slug in one query when the batch flushes.
	slugs map[string]bool
}

type changeBatchKey struct{}

// DeferChanges returns a context in which Changed only gathers the scopes it
// is told of, for FlushChanges to announce together, so that a transaction
// that changes many things (the inbox applies a batch of activities in one)
// sends a few notices rather than one per change. Scopes gathered for work
// that a savepoint then rolled back are announced too, which only costs a
// cache a needless refresh.
func DeferChanges(ctx context.Context) context.Context {
	return context.WithValue(ctx, changeBatchKey{}, &changeBatch{seen: map[Scope]bool{}, slugs: map[string]bool{}})
}

// FlushChanges announces, inside q's transaction, the scopes gathered in
// ctx since DeferChanges (each once, in as few notices as fit), and forgets
// them. Call it before the transaction commits. It fails only when the
// database does.
func (s *Store) FlushChanges(ctx context.Context, q Querier) error {
	b, ok := ctx.Value(changeBatchKey{}).(*changeBatch)
	if !ok {
		return nil
	}
	if len(b.slugs) > 0 {
		slugs := make([]string, 0, len(b.slugs))
		for slug := range b.slugs {
			slugs = append(slugs, slug)
		}
		rows, err := q.Query(ctx, `SELECT id FROM courses WHERE slug = ANY($1)`, slugs)
		if err != nil {
			return fmt.Errorf("courses of %d changes: %w", len(slugs), err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("courses of %d changes: %w", len(slugs), err)
		}
		scopes := make([]Scope, len(ids))
		for i, id := range ids {
			scopes[i] = CourseScope(id)
		}
		deferred(ctx, scopes)
		clear(b.slugs)
	}
	if len(b.scopes) == 0 {
		return nil
	}
	scopes := b.scopes
	b.scopes, b.seen = nil, map[Scope]bool{}
	for len(scopes) > 0 {
		n, size := 0, 0
		for n < len(scopes) && (n == 0 || size+len(scopes[n])+1 <= maxChangePayload) {
			size += len(scopes[n]) + 1
			n++
		}
		if err := s.notifyChanged(ctx, q, scopes[:n]); err != nil {
			return fmt.Errorf("flush %d changes: %w", len(scopes), err)
		}
		scopes = scopes[n:]
	}
	return nil
}

// deferred gathers scopes when ctx is inside DeferChanges and reports
// whether it did.
func deferred(ctx context.Context, scopes []Scope) bool {
	b, ok := ctx.Value(changeBatchKey{}).(*changeBatch)
	if !ok {
		return false
	}
	for _, sc := range scopes {
		if !b.seen[sc] {
			b.seen[sc] = true
			b.scopes = append(b.scopes, sc)
		}
	}
	return true
}

// deferCourseSlug notes, inside DeferChanges, that the local course slug
// (if there is one) changed, and reports whether it did.
func deferCourseSlug(ctx context.Context, slug string) bool {
	b, ok := ctx.Value(changeBatchKey{}).(*changeBatch)
	if ok {
		b.slugs[slug] = true
	}
	return ok
}

// inTx reports whether q is a transaction (whose changes a flush can
// announce before they commit), not the pool.
func inTx(q Querier) bool {
	_, ok := q.(pgx.Tx)
	return ok
}
