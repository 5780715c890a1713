package inbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Actor leases: a processor applies an actor's activities only while it
// holds the actor's row in inbox_actor_leases, so two processes sharing a
// database never apply one actor's activities at once (which would break
// their order). A lease that is not renewed expires, so the actors of a
// process that died are taken over after leaseTTL.
const (
	leaseTTL   = time.Minute
	leaseBatch = 32 // activities read at a time under one lease, at most
	// leaseActivities is how many activities a lease reads (in reads of
	// readBatch) before the actor goes back in line.
	leaseActivities = 4 * leaseBatch
	maxFetches      = 4 // remote documents one activity may need
	// heldActivities bounds the activities all of a process's workers
	// hold read at once (each read is at most this ÷ Workers, and at
	// most leaseBatch): bodies may be large, and more workers must not
	// mean more of them in memory.
	heldActivities = 2048
)

// readBatch is how many activities a worker reads at a time.
func (p *Processor) readBatch() int { return max(1, min(leaseBatch, heldActivities/p.Workers)) }

// leaseRounds is how many reads a lease makes: smaller reads do not make
// an actor go back in line (a claim, which probes every pending actor)
// more often.
func (p *Processor) leaseRounds() int { return max(1, leaseActivities/p.readBatch()) }

// claimActors takes leases on up to $1 actors that have due activities and
// no live lease, those with the oldest due activity first, and reads each
// claimed actor's first $4 due activities in the same statement (so a
// lease costs no separate first read). The distinct pending actors are
// found by a loose index scan of inbox_activities_actor_pending (one probe
// per actor, however long the backlog), backwards: each probe lands on an
// actor's newest entries, which are pending, where a forward probe lands
// on its oldest, the ones already applied, whose dead index entries stay
// until the table is vacuumed and must be stepped over (about 18 buffers
// per actor in a 100,000-activity burst). Each one's first due activity
// by one more probe. An activity held for its host's fetch budget holds
// back the actor's later ones, so that they keep their order; an actor's
// first held one is one probe of inbox_activities_actor_held.
const claimActors = `
	WITH RECURSIVE pending(actor_iri) AS (
		(SELECT actor_iri FROM inbox_activities WHERE processed_at IS NULL ORDER BY actor_iri DESC LIMIT 1)
		UNION ALL
		SELECT (SELECT i.actor_iri FROM inbox_activities i
		        WHERE i.processed_at IS NULL AND i.actor_iri < p.actor_iri ORDER BY i.actor_iri DESC LIMIT 1)
		FROM pending p WHERE p.actor_iri IS NOT NULL
	), due AS (
		SELECT p.actor_iri, f.seq FROM pending p
		CROSS JOIN LATERAL (
			SELECT i.seq FROM inbox_activities i
			WHERE i.actor_iri = p.actor_iri AND i.processed_at IS NULL
			  AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= now())
			  AND i.seq < coalesce((SELECT min(h.seq) FROM inbox_activities h WHERE h.actor_iri = p.actor_iri
			                        AND h.processed_at IS NULL AND h.held AND h.next_attempt_at > now()), ` + maxSeq + `)
			ORDER BY i.seq LIMIT 1) f
		WHERE p.actor_iri IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM inbox_actor_leases l WHERE l.actor_iri = p.actor_iri AND l.expires_at > now())
		ORDER BY f.seq LIMIT $1
	), claimed AS (
		INSERT INTO inbox_actor_leases (actor_iri, holder, expires_at)
		SELECT actor_iri, $2, now() + $3::interval FROM due
		ON CONFLICT (actor_iri) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE inbox_actor_leases.expires_at <= now()
		RETURNING actor_iri
	)
	SELECT c.actor_iri, a.seq, a.activity_id, a.type, a.recipient, a.body, a.attempts
	FROM claimed c LEFT JOIN LATERAL (
		SELECT i.seq, i.activity_id, i.type, i.recipient, i.body, i.attempts FROM inbox_activities i
		WHERE i.actor_iri = c.actor_iri AND i.processed_at IS NULL
		  AND (i.next_attempt_at IS NULL OR i.next_attempt_at <= now())
		  AND i.seq < coalesce((SELECT min(h.seq) FROM inbox_activities h WHERE h.actor_iri = c.actor_iri
		                        AND h.processed_at IS NULL AND h.held AND h.next_attempt_at > now()), ` + maxSeq + `)
		ORDER BY i.seq LIMIT $4) a ON true
	ORDER BY c.actor_iri, a.seq`

// maxSeq stands for "no held activity": every seq is below it.
const maxSeq = "9223372036854775807"

// claimed is an actor whose lease this process took, with its first due
// activities (possibly none, if they were applied in the meantime).
type claimed struct {
	actor string
	first []*Incoming
}

// claim leases up to n actors with due activities. Two processes claiming
// at once never get the same actor: the lease row is taken by whichever
// insert comes first, and the other's conditional update finds it live.
func (p *Processor) claim(ctx context.Context, n int) ([]claimed, error) {
	rows, err := p.Pool.Query(ctx, claimActors, n, p.holder, leaseTTL.String(), p.readBatch())
	if err != nil {
		return nil, fmt.Errorf("claim inbox actors: %w", err)
	}
	var out []claimed
	var actor string
	var seq *int64
	var id, typ, recipient *string
	var body []byte
	var attempts *int
	_, err = pgx.ForEachRow(rows, []any{&actor, &seq, &id, &typ, &recipient, &body, &attempts}, func() error {
		if len(out) == 0 || out[len(out)-1].actor != actor {
			out = append(out, claimed{actor: actor})
		}
		if seq != nil {
			c := &out[len(out)-1]
			c.first = append(c.first, &Incoming{Envelope: Envelope{ID: *id, Actor: actor, Type: *typ},
				Recipient: *recipient, Body: body, seq: *seq, attempts: *attempts})
			body = nil // the next row's body gets its own buffer
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim inbox actors: %w", err)
	}
	return out, nil
}

// renew extends this process's lease on actor; it fails when the lease was
// lost (it expired and another process took it).
func (p *Processor) renew(ctx context.Context, actor string) error {
	tag, err := p.Pool.Exec(ctx, `UPDATE inbox_actor_leases SET expires_at = now() + $3::interval
		WHERE actor_iri = $1 AND holder = $2`, actor, p.holder, leaseTTL.String())
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("lease on %s lost", actor)
	}
	return err
}

// release gives actor's lease back, so that its next activities can be
// taken at once, here or elsewhere. A worker that ran out of activities
// does not call it: the read that found none gave the lease back
// (nextActivities).
func (p *Processor) release(actor string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.Pool.Exec(ctx, `DELETE FROM inbox_actor_leases WHERE actor_iri = $1 AND holder = $2`, actor, p.holder); err != nil {
		p.Logger.Warn("releasing an inbox lease failed; it expires by itself", "actor", actor, "err", err)
	}
}

// leaseClock tells a worker when to renew its lease: well before it
// expires, and without a query per activity.
type leaseClock struct{ since time.Time }

func newLeaseClock() *leaseClock { return &leaseClock{since: time.Now()} }

func (c *leaseClock) due() bool { return time.Since(c.since) > leaseTTL/3 }

func (c *leaseClock) renewed() { c.since = time.Now() }
