package outbox

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/colearn/colearn/federation"
)

// ErrInvalidActivity means Publish was given an activity without an id, a
// type or an actor, or whose body is not JSON.
var ErrInvalidActivity = errors.New("invalid activity")

// Activity is one activity to send.
type Activity struct {
	ID       string // IRI on this instance; unique
	Type     string
	ActorIRI string // the sending local actor
	KeyOwner string // handle whose keys sign (KeyStore owner; "" = instance actor)
	Body     []byte // the JSON-LD document, sent byte for byte
	Public   bool   // listed in the actor's outbox collection
	// FollowersOf names a local course whose accepted remote members
	// receive the activity (0 = none) ...
	FollowersOf int64
	// FollowersVia restricts FollowersOf to members who came by this way
	// ("follow", "join"); empty means all.
	FollowersVia string
	// UserFollowersOf names a local user whose followers receive the
	// activity (0 = none; user_followers.go) ...
	UserFollowersOf int64
	// ... plus these inboxes (deduplicated with the above).
	Inboxes []string
}

// Config configures an Outbox.
type Config struct {
	Pool *pgxpool.Pool
	// QueuePool, when set, is where River runs its own statements (fetching
	// jobs, completing them, its maintenance, its LISTEN), and the
	// fan-out's and the deliveries' own transactions; the default is Pool.
	// Jobs enqueued in a caller's transaction stay in that transaction. It
	// must reach the same database as Pool.
	QueuePool *pgxpool.Pool
	Keys      *federation.KeyStore
	Client    *federation.Client
	// Logger receives delivery outcomes and River's own logs (default: discard).
	Logger *slog.Logger
	// Workers is how many delivery jobs run at once in this process
	// (default 100). A job is mostly waiting on a peer, and one fetch of
	// River's takes at most this many jobs, so it is sized to take a
	// post's jobs for a hundred servers in one go; signing, the CPU part,
	// runs on every core whatever the number.
	Workers int
	// GoneFunc is called when an inbox answers 410 Gone, so that the actor
	// behind it can be dropped from rosters (may be nil). The inbox may be a
	// shared one; the callee decides what to remove. Its error is logged.
	GoneFunc func(ctx context.Context, inbox string) error
	// RetryDelayFunc returns the wait after failed attempt n (1-based) of a
	// delivery (default Backoff). Tests shorten it.
	RetryDelayFunc func(attempt int) time.Duration
	// DomainBlockedFunc keeps deliveries away from blocked servers (may be
	// nil): a delivery to one is cancelled without a request, except a
	// Reject, the answer that ends its members' follows.
	DomainBlockedFunc federation.DomainBlockedFunc
	// OutcomeFunc is told the outcome class of every delivery request:
	// "2xx", "4xx" (refused, not retried), "4xx-retried" (401, 408, 429),
	// "5xx", "network", "gone" (410) or "forbidden" (a refused address).
	// It may be nil; it must be fast and safe for concurrent use.
	OutcomeFunc func(class string)
	// CompletedRetention is how long delivered jobs stay in River's table
	// before its cleaner deletes them (default one hour); FailedRetention
	// the same for abandoned ones, cancelled or discarded (default seven
	// days, long enough to see why a peer never got something).
	CompletedRetention time.Duration
	FailedRetention    time.Duration
	// PollInterval is how often River looks for deliveries that became due
	// without a notification: retries and snoozes (default one second, as
	// River's). New jobs need no poll, they come by LISTEN/NOTIFY. Each poll
	// is a query per queue, so an idle instance makes two a second; tests
	// that shorten RetryDelayFunc shorten this too.
	PollInterval time.Duration
	// PublishedFunc is called in the publishing transaction for every
	// public activity stored, so that cached outbox collections of its
	// actor can be dropped when it commits (may be nil). Its error rolls
	// the publication back.
	PublishedFunc func(ctx context.Context, tx pgx.Tx, actorIRI string) error
}

// Outbox publishes activities and runs their fan-out and delivery jobs.
type Outbox struct {
	published func(ctx context.Context, tx pgx.Tx, actorIRI string) error
	pool      *pgxpool.Pool
	river     *river.Client[pgx.Tx]
	log       *slog.Logger
}

// New builds an Outbox and its River client (fan-out and delivery workers).
// It fails when Pool, Keys or Client is missing. Nothing runs until Start;
// an Outbox that is never started can still Publish (another process
// delivers).
func New(cfg Config) (*Outbox, error) {
	if cfg.Pool == nil || cfg.Keys == nil || cfg.Client == nil {
		return nil, errors.New("outbox: Pool, Keys and Client are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 100
	}
	if cfg.RetryDelayFunc == nil {
		cfg.RetryDelayFunc = Backoff
	}
	workers := river.NewWorkers()
	activities := newActivities(cfg.Pool)
	queuePool := cfg.Pool
	if cfg.QueuePool != nil {
		queuePool = cfg.QueuePool
	}
	// The fan-out's transaction and a delivery's continuation are the
	// queue's own: they run on its pool.
	river.AddWorker(workers, &fanoutWorker{pool: queuePool, activities: activities})
	delivery := &deliveryWorker{
		pool:        queuePool,
		outcomeFunc: cfg.OutcomeFunc,
		keys:        cfg.Keys,
		client:      cfg.Client,
		log:         cfg.Logger,
		gone:        cfg.GoneFunc,
		retryDelay:  cfg.RetryDelayFunc,
		blocked:     cfg.DomainBlockedFunc,
		breaker:     newBreaker(cfg.Pool),
		activities:  activities,
	}
	river.AddWorker(workers, delivery)
	river.AddWorker(workers, &deliverySetWorker{delivery: delivery})
	rc, err := river.NewClient(riverpgxv5.New(queuePool), &river.Config{
		Logger:  cfg.Logger,
		Workers: workers,
		Queues: map[string]river.QueueConfig{
			queueFanout:   {MaxWorkers: 4},
			queueDelivery: {MaxWorkers: cfg.Workers},
		},
		// New jobs arrive by LISTEN/NOTIFY (sent on commit); the cooldown
		// also rate-limits those notifications, so it is kept tiny to start
		// a job within a few milliseconds of its commit. The poll picks up
		// retries and snoozes, which River marks available without a
		// notification; retries wait ten seconds or more, so a second's
		// lateness is nothing, and a faster poll (it was 100 ms) cost
		// PostgreSQL twenty queries a second, busy or idle.
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: cmp.Or(cfg.PollInterval, time.Second),
		// A delivered job is of no further use; failures stay longer.
		CompletedJobRetentionPeriod: cmp.Or(cfg.CompletedRetention, time.Hour),
		CancelledJobRetentionPeriod: cmp.Or(cfg.FailedRetention, 7*24*time.Hour),
		DiscardedJobRetentionPeriod: cmp.Or(cfg.FailedRetention, 7*24*time.Hour),
		// A delivery is one HTTP request with a 10 s timeout, so a job still
		// "running" after a minute belongs to a process that died (SIGKILL,
		// power loss): River's rescuer makes it available again.
		JobTimeout:           30 * time.Second,
		RescueStuckJobsAfter: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{pool: cfg.Pool, river: rc, log: cfg.Logger, published: cfg.PublishedFunc}, nil
}

// Start runs the workers until Stop is called or ctx is cancelled (which
// also stops them, waiting for running jobs).
func (o *Outbox) Start(ctx context.Context) error {
	if err := o.river.Start(ctx); err != nil {
		return fmt.Errorf("start outbox: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for running ones to finish; when ctx
// ends first, the running ones are cancelled (they will be retried) and
// ctx's error is returned. Nothing queued is lost either way.
func (o *Outbox) Stop(ctx context.Context) error {
	if err := o.river.Stop(ctx); err != nil {
		return fmt.Errorf("stop outbox: %w", err)
	}
	return nil
}

// Publish stores the activity once and enqueues one fan-out job, both in
// tx, so the domain change and its deliveries commit or roll back together.
// Publishing an ID that is already stored does nothing. An activity with no
// recipients is only stored (it still shows in the outbox collection).
func (o *Outbox) Publish(ctx context.Context, tx pgx.Tx, a Activity) error {
	if err := a.check(); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO outbox_activities (id, actor_iri, key_owner, type, body, public)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		a.ID, a.ActorIRI, a.KeyOwner, a.Type, string(a.Body), a.Public)
	if err != nil {
		return fmt.Errorf("publish %s: store: %w", a.ID, err)
	}
	if tag.RowsAffected() > 0 && a.Public && o.published != nil {
		if err := o.published(ctx, tx, a.ActorIRI); err != nil {
			return fmt.Errorf("publish %s: %w", a.ID, err)
		}
	}
	if tag.RowsAffected() == 0 || a.FollowersOf == 0 && a.UserFollowersOf == 0 && len(a.Inboxes) == 0 {
		return nil
	}
	args := a.fanout()
	if deferFanout(ctx, args) { // enqueue_batch.go
		return nil
	}
	if _, err := o.river.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("publish %s: enqueue fan-out: %w", a.ID, err)
	}
	return nil
}

// check refuses an activity without an id, a type or an actor, or whose
// body is not JSON.
func (a Activity) check() error {
	if a.ID == "" || a.Type == "" || a.ActorIRI == "" || !json.Valid(a.Body) {
		return fmt.Errorf("publish %q: %w", a.ID, ErrInvalidActivity)
	}
	return nil
}

// fanout is the fan-out job of a stored activity.
func (a Activity) fanout() fanoutArgs {
	return fanoutArgs{ActivityID: a.ID, FollowersOf: a.FollowersOf, FollowersVia: a.FollowersVia, Inboxes: a.Inboxes,
		UserFollowersOf: a.UserFollowersOf}
}

// Pending returns how many deliveries (activity × inbox, not jobs) are waiting or
// running: the delivery queue's depth. It reads River's table, so it costs
// a query; call it when metrics are scraped, not per delivery.
func (o *Outbox) Pending(ctx context.Context) (int64, error) {
	var n int64
	err := o.pool.QueryRow(ctx, `
		SELECT coalesce(sum(greatest(jsonb_array_length(coalesce(args->'inboxes', '[]'::jsonb)), 1)
			* (1 + jsonb_array_length(coalesce(args->'more', '[]'::jsonb)))), 0)::bigint
		FROM river_job
		WHERE kind IN ('outbox_delivery', 'outbox_delivery_set') AND state IN ('available', 'scheduled', 'retryable', 'running', 'pending')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	return n, nil
}
