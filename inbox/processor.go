package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
	"github.com/colearn/colearn/outbox"
)

// Fetcher dereferences remote actors and objects from their origin.
type Fetcher interface {
	Actor(ctx context.Context, iri string, refresh bool) (federation.RemoteActor, error)
	Object(ctx context.Context, iri string) ([]byte, error)
}

// Processor applies accepted activities to the domain. Accepting (the HTTP
// handler) and applying are separate so that the inbox answers at the speed
// of one durable insert; an activity accepted but not yet applied when the
// process died is applied after the restart.
//
// Each actor's activities are applied in the order they arrived, by one
// worker at a time across every process sharing the database (an actor
// lease, see lease.go); different actors' activities are applied
// concurrently by up to Workers workers. A worker never fetches inside a
// transaction: an activity handler that needs a remote document asks for it
// (needFetch), the worker fetches it with the transaction closed, within its
// host's share of the fetch budget, and applies the activity again. Applying
// is batched: the workers' activities go into shared transactions, each in
// its own savepoint (batch_apply.go), plain Creates of course posts as one
// set (create_bulk.go).
type Processor struct {
	Pool    *pgxpool.Pool
	Courses *courses.Store
	Fetcher Fetcher
	// Sender publishes what applying an activity causes (Accept, Announce),
	// in the same transaction.
	Sender *outbox.Sender
	URLs   federation.URLs
	Logger *slog.Logger
	// Badges verifies credentials delivered to local users (badge.go).
	Badges *credential.Verifier
	// PollInterval is how often the queue is checked without a wake-up
	// (default 1 s); other processes' inboxes only wake it this way.
	PollInterval time.Duration
	// Workers is how many actors' activities this process applies at once
	// (default 256). A worker holds no connection while it waits, so many
	// are cheap, and they fill the appliers' batches: an actor's
	// activities are applied one after another, so a batch has at most one
	// activity per worker, and with the commit's WAL flush paid once per
	// batch, bigger batches are what keeps a durable database applying as
	// fast as the inbox accepts. With 64, a burst from 100 actors left
	// batches of about 18 and took 7–13 s after its last request to apply;
	// with 256, 3 s (BenchmarkInboxLoad, 20,000 Creates).
	Workers int
	// HostFetches is how many fetches may run at once against one remote
	// host (default 2); an activity whose host is busy waits its turn
	// without holding a worker.
	HostFetches int
	// FetchTimeout bounds one fetch of a remote document (default 5 s).
	FetchTimeout time.Duration
	// Retention is how long applied activities are kept before they are
	// pruned (default 14 days; negative keeps them for good).
	Retention time.Duration
	// AppliedFunc, when set, is told of every activity that was applied or
	// dropped for good, with the time from its claim to its commit.
	AppliedFunc func(activityType string, took time.Duration)

	initOnce sync.Once
	wake     chan struct{}
	holder   string // this process's name in inbox_actor_leases
	hosts    *hostBudget
	applier  *applier
	// working counts, by actor, the workers of this process on it.
	workingMu sync.Mutex
	working   map[string]int
	nWorking  int // the sum of working
	// oneByOne turns the bulk path for Creates off (create_bulk.go), for
	// the test that compares the two.
	oneByOne bool
}

// Incoming is an accepted activity being applied.
type Incoming struct {
	Envelope
	Recipient string
	Body      []byte
	Activity  *vocab.Activity
	raw       map[string]json.RawMessage

	seq      int64
	attempts int
	// fetched holds the remote documents fetched for this activity so far,
	// by IRI, so that applying it again finds them.
	fetched map[string]fetchResult
}

// Wake tells the processor that new activities are waiting.
func (p *Processor) Wake() {
	p.init()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// WakeFor tells the processor that actor has a new activity waiting. When
// one of this process's workers holds actor's lease, nothing needs to
// happen: that worker's next read finds the activity, and if that read
// came too early and gave the lease back, the worker's end wakes the
// processor. Otherwise it wakes the processor to claim actor. Each claim
// probes every pending actor, so a busy actor's every activity must not
// cost one.
func (p *Processor) WakeFor(actor string) {
	p.init()
	p.workingMu.Lock()
	held := p.working[actor] > 0
	p.workingMu.Unlock()
	if !held {
		p.Wake()
	}
}

// workerFree reports whether fewer workers are busy than there are, so
// that a claim would have a worker for another actor.
func (p *Processor) workerFree() bool {
	p.workingMu.Lock()
	defer p.workingMu.Unlock()
	return p.nWorking < p.Workers
}

func (p *Processor) setWorking(actor string, on bool) {
	p.workingMu.Lock()
	defer p.workingMu.Unlock()
	// A count, not a flag: a worker gives its lease back (in its last
	// read) before it ends, so a claim may hand the actor to a new worker
	// while the old one is still on its way out, and the old one's end
	// must not take the new one's place off the map.
	if on {
		p.working[actor]++
		p.nWorking++
		return
	}
	p.nWorking--
	if p.working[actor]--; p.working[actor] <= 0 {
		delete(p.working, actor)
	}
}

func (p *Processor) init() {
	p.initOnce.Do(func() {
		p.wake = make(chan struct{}, 1)
		p.working = make(map[string]int)
		p.holder = federation.NewID()
		if p.Workers <= 0 {
			p.Workers = 256
		}
		if p.HostFetches <= 0 {
			p.HostFetches = 2
		}
		if p.FetchTimeout <= 0 {
			p.FetchTimeout = 5 * time.Second
		}
		if p.Retention == 0 {
			p.Retention = DefaultRetention
		}
		if p.PollInterval <= 0 {
			p.PollInterval = time.Second
		}
		if p.Logger == nil {
			p.Logger = slog.New(slog.DiscardHandler)
		}
		p.hosts = newHostBudget(p.HostFetches)
		p.applier = newApplier(p)
	})
}

// Run applies waiting activities until ctx ends, then waits for its
// workers to stop. Activities being applied when ctx ends are left for the
// next run (nothing half-applied is committed).
func (p *Processor) Run(ctx context.Context) {
	p.init()
	var workers sync.WaitGroup
	defer workers.Wait()
	appliers := p.applier.start(ctx)
	defer appliers.Wait()

	workers.Add(1)
	go func() {
		defer workers.Done()
		p.pruneEvery(ctx)
	}()

	slots := make(chan struct{}, p.Workers)
	poll := time.NewTicker(p.PollInterval)
	defer poll.Stop()
	gap := time.NewTimer(0)
	defer gap.Stop()
	for ctx.Err() == nil {
		if free := cap(slots) - len(slots); free > 0 {
			actors, err := p.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				p.Logger.Error("claiming inbox work failed", "err", err)
			}
			for _, c := range actors {
				slots <- struct{}{}
				p.setWorking(c.actor, true)
				workers.Add(1)
				go func() {
					defer workers.Done()
					p.work(ctx, c)
					p.setWorking(c.actor, false)
					<-slots
					p.Wake()
				}()
			}
		}
		// Every accepted activity and every finished lease wakes the loop;
		// the wake-ups of the next claimGap share one claim, whose scan of
		// the pending actors costs the same for one new activity as for many.
		gap.Reset(claimGap)
		select {
		case <-ctx.Done():
		case <-gap.C:
		}
		select {
		case <-ctx.Done():
		case <-p.wake:
		case <-poll.C:
		}
	}
}

// claimGap is the least time between two claims: a few milliseconds more
// before an activity is applied, for a claim per gap instead of one per
// accepted activity when the workers keep up.
const claimGap = 5 * time.Millisecond

// work applies a claimed actor's due activities, oldest first, a bounded
// number per lease so that the lease stays short and other actors get
// their turn. The first ones came with the claim; the read that finds no
// more gives the lease back in the same statement. While some worker is
// free, no actor is waiting for this one's turn, so the lease goes on past
// its bound: going back in line would cost a claim, which probes every
// pending actor, only to take the same actor again. Going on, it reads
// from the actor's first due activity again after each bound, as a new
// claim would.
func (p *Processor) work(ctx context.Context, c claimed) {
	actor := c.actor
	released := false
	defer func() {
		if !released {
			p.release(actor)
		}
	}()
	lease := newLeaseClock()
	// The actor's own document, once looked up for one of its activities,
	// serves the next ones under this lease: applying each would otherwise
	// stop once to ask for it.
	self := &needFetch{iri: actor, actor: true}
	var known *fetchResult
	batch := c.first
	var after int64 // the last seq read under this lease
	for round := 0; round < p.leaseRounds() || p.workerFree(); round++ {
		if round > 0 || len(batch) == 0 {
			if round%p.leaseRounds() == 0 {
				// Every bound's worth of activities, the read starts over
				// as a new claim's would, so that what this lease left
				// behind is found again: an activity waiting for a retry,
				// or one whose lower seq committed after a later read.
				after = 0
			}
			var err error
			batch, err = p.next(ctx, actor, after, p.readBatch())
			if err != nil {
				if ctx.Err() == nil {
					p.Logger.Error("reading inbox activities failed", "actor", actor, "err", err)
				}
				return
			}
			if len(batch) == 0 {
				released = true
				return
			}
		}
		after = batch[len(batch)-1].seq
		for _, in := range batch {
			if lease.due() {
				if err := p.renew(ctx, actor); err != nil {
					return // lost it (or the database): another holder takes over
				}
				lease.renewed()
			}
			if known != nil {
				in.fetched = map[string]fetchResult{fetchKey(self): *known}
			}
			ok := p.processOne(ctx, in)
			if r, found := in.fetched[fetchKey(self)]; found && r.err == nil {
				known = &r
			}
			if !ok {
				return
			}
		}
	}
}

// next reads up to limit of actor's due activities after seq after, oldest
// first; when there are none, it gives this process's lease on actor back.
// Under one lease, the activities up to the last one read are applied, or
// wait for a later attempt that a later claim finds: starting the read past
// them skips their index entries, which stay until the table is vacuumed.
func (p *Processor) next(ctx context.Context, actor string, after int64, limit int) ([]*Incoming, error) {
	rows, err := p.Pool.Query(ctx, nextActivities, actor, limit, p.holder, after)
	if err != nil {
		return nil, fmt.Errorf("activities of %s: %w", actor, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Incoming, error) {
		in := &Incoming{Envelope: Envelope{Actor: actor}}
		err := r.Scan(&in.seq, &in.ID, &in.Type, &in.Recipient, &in.Body, &in.attempts)
		return in, err
	})
}

// nextActivities reads an actor's due activities in order: one range of
// inbox_activities_actor_pending, after seq $4 and below the actor's first
// held activity (one probe of inbox_activities_actor_held). When it finds none, it
// deletes the actor's lease held by $3: the release costs no round trip of
// its own. An activity that commits after this statement's snapshot wakes
// the processor (or is found by its poll) and is claimed afresh.
const nextActivities = `WITH due AS (
		SELECT seq, activity_id, type, recipient, body, attempts FROM inbox_activities
		WHERE actor_iri = $1 AND processed_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())
		  AND seq > $4 AND seq < coalesce((SELECT min(h.seq) FROM inbox_activities h WHERE h.actor_iri = $1
		                      AND h.processed_at IS NULL AND h.held AND h.next_attempt_at > now()), ` + maxSeq + `)
		ORDER BY seq LIMIT $2
	), released AS (
		DELETE FROM inbox_actor_leases WHERE actor_iri = $1 AND holder = $3 AND NOT EXISTS (SELECT 1 FROM due)
	)
	SELECT seq, activity_id, type, recipient, body, attempts FROM due ORDER BY seq`

// processOne applies one activity: it hands it to the batch applier and,
// each time applying it needs a remote document, fetches that outside any
// transaction and hands it over again. It reports false when the worker
// should stop (shutting down, the database keeps failing, or the activity
// waits for its host's fetch budget, holding the actor's later ones back);
// the activity then stays waiting.
func (p *Processor) processOne(ctx context.Context, in *Incoming) bool {
	start := time.Now()
	parseErr := in.parse()
	for fetches, failures := 0, 0; ; {
		job := &applyJob{in: in, failed: parseErr}
		if fetches >= maxFetches {
			job.failed = fmt.Errorf("%w: needs more than %d remote documents", ErrMalformed, maxFetches)
		}
		res := p.applier.apply(ctx, job)
		switch {
		case ctx.Err() != nil:
			return false
		case res.err != nil:
			if failures++; failures >= 3 {
				p.Logger.Error("applying inbox activity failed; left for later", "id", in.ID, "err", res.err)
				return false
			}
			time.Sleep(time.Duration(failures) * 100 * time.Millisecond)
		case res.need != nil:
			fetches++
			p.fetch(ctx, in, res.need)
		case res.held:
			return false // its host is busy: the actor's next ones wait behind it
		default:
			if res.done && p.AppliedFunc != nil {
				p.AppliedFunc(in.Type, time.Since(start))
			}
			return true
		}
	}
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

// apply dispatches to the file that handles the activity's type. A handler
// runs inside a savepoint of a batch transaction: it must not make network
// calls, and asks for remote documents with p.objectOf, p.remoteObject and
// p.actorOf (fetch.go), which end it with a needFetch the first time.
func (p *Processor) apply(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if done, err := p.coauthor(ctx, tx, in); done || err != nil { // invite.go, coauthor.go
		return err
	}
	if done, err := p.cohost(ctx, tx, in); done || err != nil { // cohost.go
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
	case "Flag":
		return p.flag(ctx, tx, in)
	case "Move":
		return p.actorMove(ctx, tx, in) // actor_move.go
	case "Offer":
		return p.badgeOffer(ctx, tx, in)
	case "Remove":
		return p.badgeRemove(ctx, tx, in)
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
