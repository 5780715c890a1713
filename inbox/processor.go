package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

// Fetcher dereferences remote actors and objects from their origin.
type Fetcher interface {
	Actor(ctx context.Context, iri string, refresh bool) (federation.RemoteActor, error)
	Object(ctx context.Context, iri string) ([]byte, error)
}

// Processor applies accepted activities to the domain, in the order they
// arrived. Accepting (the HTTP handler) and applying are separate so that
// the inbox answers at the speed of one durable insert; an activity that was
// accepted but not yet applied when the process died is applied after the
// restart. Each activity is applied in its own transaction, together with
// the activities it causes.
type Processor struct {
	Pool    *pgxpool.Pool
	Courses *courses.Store
	Fetcher Fetcher
	// Sender publishes what applying an activity causes (Accept, Announce),
	// in the same transaction.
	Sender *outbox.Sender
	URLs   federation.URLs
	Logger *slog.Logger
	// PollInterval is how often the queue is checked without a wake-up
	// (default 1 s); other processes' inboxes only wake it this way.
	PollInterval time.Duration

	wake chan struct{}
}

// Incoming is an accepted activity being applied.
type Incoming struct {
	Envelope
	Recipient string
	Body      []byte
	Activity  *vocab.Activity
	raw       map[string]json.RawMessage
}

// Wake tells the processor that new activities are waiting.
func (p *Processor) Wake() {
	p.init()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Processor) init() {
	if p.wake == nil {
		p.wake = make(chan struct{}, 1)
	}
}

// Run applies waiting activities until ctx ends.
func (p *Processor) Run(ctx context.Context) {
	p.init()
	interval := p.PollInterval
	if interval == 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := p.ProcessPending(ctx, 50)
			if err != nil && ctx.Err() == nil {
				p.Logger.Error("inbox processing failed", "err", err)
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

// ProcessPending applies up to limit waiting activities and returns how many
// it took. Several processes may run it at once: each activity is taken by
// one of them.
func (p *Processor) ProcessPending(ctx context.Context, limit int) (int, error) {
	rows, err := p.Pool.Query(ctx, `SELECT seq FROM inbox_activities
		WHERE processed_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())
		ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return 0, err
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	for _, seq := range seqs {
		if err := p.processOne(ctx, seq); err != nil {
			return 0, err
		}
	}
	return len(seqs), nil
}

// processOne applies one activity. A failure for a passing reason (a
// server that was down, a database hiccup) leaves the activity waiting for a
// later attempt, with backoff, up to MaxApplyAttempts; any other failure
// (malformed, not allowed, not for anything here) is final. Either way the
// reason is recorded on the row and logged: the sender was answered long ago.
func (p *Processor) processOne(ctx context.Context, seq int64) error {
	return pgx.BeginFunc(ctx, p.Pool, func(tx pgx.Tx) error {
		var in Incoming
		var attempts int
		err := tx.QueryRow(ctx, `SELECT activity_id, actor_iri, type, recipient, body, attempts FROM inbox_activities
			WHERE seq = $1 AND processed_at IS NULL FOR UPDATE SKIP LOCKED`, seq).
			Scan(&in.ID, &in.Actor, &in.Type, &in.Recipient, &in.Body, &attempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // taken by another process
		}
		if err != nil {
			return err
		}
		applyErr := p.applyInSavepoint(ctx, tx, &in)
		if applyErr != nil && ctx.Err() != nil {
			return ctx.Err() // shutting down: leave it for the next run
		}
		attempts++
		if applyErr != nil && transient(applyErr) && attempts < MaxApplyAttempts {
			p.Logger.Info("activity not applied yet; will try again", "id", in.ID, "type", in.Type, "attempt", attempts, "reason", applyErr)
			_, err = tx.Exec(ctx, `UPDATE inbox_activities SET attempts = $2, error = $3, next_attempt_at = now() + $4::interval WHERE seq = $1`,
				seq, attempts, applyErr.Error(), applyBackoff(attempts).String())
			return err
		}
		msg := ""
		if applyErr != nil {
			msg = applyErr.Error()
			p.Logger.Info("activity not applied", "id", in.ID, "type", in.Type, "actor", in.Actor, "reason", msg)
		}
		_, err = tx.Exec(ctx, `UPDATE inbox_activities SET processed_at = now(), attempts = $2, error = $3 WHERE seq = $1`, seq, attempts, msg)
		return err
	})
}

func (p *Processor) applyInSavepoint(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if err := in.parse(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { return p.apply(ctx, sp, in) })
}

func (in *Incoming) parse() error {
	if err := json.Unmarshal(in.Body, &in.raw); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	item, err := vocab.UnmarshalJSON(in.Body)
	if err != nil || item == nil {
		return fmt.Errorf("%w: not an activity", ErrMalformed)
	}
	act, err := vocab.ToActivity(item)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	in.Activity = act
	return nil
}

// apply dispatches to the file that handles the activity's type.
func (p *Processor) apply(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if done, err := p.coauthor(ctx, tx, in); done || err != nil { // invite.go, coauthor.go
		return err
	}
	switch in.Type {
	case "Follow":
		return p.follow(ctx, tx, in)
	case "Join":
		return p.join(ctx, tx, in)
	case "Accept":
		return p.accept(ctx, tx, in, true)
	case "Reject":
		return p.accept(ctx, tx, in, false)
	case "Undo":
		return p.undo(ctx, tx, in)
	case "Leave":
		return p.leave(ctx, tx, in)
	case "Create":
		return p.create(ctx, tx, in)
	case "Update":
		return p.update(ctx, tx, in)
	case "Delete":
		return p.delete(ctx, tx, in)
	case "Announce":
		return p.announce(ctx, tx, in)
	case "Like":
		return nil // acknowledged; colearn keeps no likes yet
	default:
		return nil
	}
}

// ObjectIRI returns the id of the activity's object, whether it was sent as
// an IRI or embedded.
func (in *Incoming) ObjectIRI() string {
	if in.Activity == nil || in.Activity.Object == nil {
		return ""
	}
	return in.Activity.Object.GetLink().String()
}
