package outbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// PublishAll is Publish for many activities: they are stored in one
// statement and their fan-out jobs enqueued in one more (or gathered, inside
// DeferFanouts, for FlushFanouts). What it stores and enqueues is what
// Publish would for each of as in turn: an id already stored (or repeated
// in as) is stored once and fanned out once, an activity with no
// recipients is only stored, and PublishedFunc is told of every actor one
// of whose public activities was stored. It fails, storing nothing, when
// one of as is invalid (ErrInvalidActivity) or the database fails; if tx
// rolls back, so do the jobs.
func (o *Outbox) PublishAll(ctx context.Context, tx pgx.Tx, as []Activity) error {
	if len(as) == 0 {
		return nil
	}
	n := len(as)
	ids, actors, owners, types, bodies, public := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]bool, n)
	for i, a := range as {
		if err := a.check(); err != nil {
			return err
		}
		ids[i], actors[i], owners[i], types[i], bodies[i], public[i] = a.ID, a.ActorIRI, a.KeyOwner, a.Type, string(a.Body), a.Public
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO outbox_activities (id, actor_iri, key_owner, type, body, public)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[])
		ON CONFLICT (id) DO NOTHING RETURNING id`,
		ids, actors, owners, types, bodies, public)
	if err != nil {
		return fmt.Errorf("publish %d activities: store: %w", n, err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("publish %d activities: store: %w", n, err)
	}
	fresh := make(map[string]bool, len(stored))
	for _, id := range stored {
		fresh[id] = true
	}
	told := map[string]bool{}
	var jobs []river.InsertManyParams
	for _, a := range as {
		if !fresh[a.ID] {
			continue
		}
		delete(fresh, a.ID) // a repeated id is fanned out once
		if a.Public && o.published != nil && !told[a.ActorIRI] {
			told[a.ActorIRI] = true
			if err := o.published(ctx, tx, a.ActorIRI); err != nil {
				return fmt.Errorf("publish %s: %w", a.ID, err)
			}
		}
		if a.FollowersOf == 0 && a.UserFollowersOf == 0 && len(a.Inboxes) == 0 {
			continue
		}
		args := a.fanout()
		if !deferFanout(ctx, args) { // enqueue_batch.go
			jobs = append(jobs, river.InsertManyParams{Args: args})
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	if _, err := o.river.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("publish %d activities: enqueue %d fan-outs: %w", n, len(jobs), err)
	}
	return nil
}
