package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"golang.org/x/sync/singleflight"

	"github.com/colearn/colearn/federation"
)

// deliveryWorker sends the stored activities its job carries, in order, to
// the inboxes of one host that it names, and decides, from each answer,
// whether that delivery is done, retried, snoozed or abandoned:
//
//	2xx                          done; the host's breaker closes
//	401, 408, 429, 5xx, network  retried (Backoff), or snoozed for Retry-After
//	410 Gone                     abandoned; GoneFunc reports the inbox
//	other 4xx, forbidden address abandoned, no retry
//	host paused by the breaker   snoozed until the pause ends, no request
//
// Only what failed is retried: when some deliveries succeed, the job
// completes and continuation jobs (deliveryArgs.Failures, Since) carry the
// rest: each inbox with the job's activities from the first it has left.
// When all fail, River retries the job itself.
//
// Fresh deliveries are not starved by retries: River fetches by priority,
// then scheduled_at, and a retry is scheduled into the future, so at any
// moment the backlog competing with fresh deliveries is only the retries
// that are due, not every failed delivery.
type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	pool       *pgxpool.Pool
	keys       *federation.KeyStore
	client     *federation.Client
	log        *slog.Logger
	gone       func(ctx context.Context, inbox string) error
	retryDelay func(attempt int) time.Duration
	breaker    *breaker
	activities *activities
	blocked    federation.DomainBlockedFunc
	// outcomeFunc counts each request's outcome class (may be nil).
	outcomeFunc func(class string)
	// keyLoads joins the concurrent first loads of one actor's keys (a
	// post's hundred jobs start together; the KeyStore caches them after).
	keyLoads singleflight.Group
}

// key returns owner's keys, loading them once however many jobs ask at once.
func (w *deliveryWorker) key(ctx context.Context, owner string) (federation.KeyPair, error) {
	v, err, _ := w.keyLoads.Do(owner, func() (any, error) { return w.keys.Get(ctx, owner) })
	if err != nil {
		return federation.KeyPair{}, err
	}
	return v.(federation.KeyPair), nil
}

// jobBudget is how long one job keeps sending before it hands the inboxes
// it has not tried yet to a continuation job, well inside River's
// JobTimeout.
const jobBudget = 15 * time.Second

// NextRetry schedules the retry after a failed attempt. The error count,
// not the attempt number, says how many attempts failed (snoozes do not),
// plus the failures of the jobs this one continues.
func (w *deliveryWorker) NextRetry(job *river.Job[deliveryArgs]) time.Time {
	return time.Now().Add(w.retryDelay(len(job.Errors) + job.Args.Failures + 1))
}

// deliverySetWorker works the jobs of several activities (their own kind,
// deliverySetArgs) as deliveryWorker does.
type deliverySetWorker struct {
	river.WorkerDefaults[deliverySetArgs]
	delivery *deliveryWorker
}

func (s *deliverySetWorker) Work(ctx context.Context, job *river.Job[deliverySetArgs]) error {
	return s.delivery.Work(ctx, asDelivery(job))
}

func (s *deliverySetWorker) NextRetry(job *river.Job[deliverySetArgs]) time.Time {
	return s.delivery.NextRetry(asDelivery(job))
}

func asDelivery(job *river.Job[deliverySetArgs]) *river.Job[deliveryArgs] {
	return &river.Job[deliveryArgs]{JobRow: job.JobRow, Args: deliveryArgs(job.Args)}
}

// sending is one activity of a job, ready to sign.
type sending struct {
	id     string
	body   []byte
	signer *federation.Signer
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	what := job.Args.what()
	inboxes := job.Args.targets()
	if len(inboxes) == 0 {
		return river.JobCancel(fmt.Errorf("deliver %s: no inbox", what))
	}
	u, err := url.Parse(inboxes[0])
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return river.JobCancel(fmt.Errorf("deliver %s to %q: not an inbox URL", what, inboxes[0]))
	}
	host := strings.ToLower(u.Host)
	since := job.CreatedAt
	if !job.Args.Since.IsZero() {
		since = job.Args.Since
	}
	expired := time.Since(since) > GiveUpAfter

	until, err := w.breaker.pausedUntil(ctx, host)
	if err != nil {
		return err
	}
	if wait := time.Until(until); wait > 0 {
		if expired {
			return river.JobCancel(fmt.Errorf("deliver %s to %s: gave up after %s, host paused", what, host, GiveUpAfter))
		}
		// A little jitter, so the backlog of a host does not all wake at once.
		return river.JobSnooze(wait + rand.N(wait/10+time.Second))
	}
	sends, err := w.prepare(ctx, job.Args.activityIDs(), host)
	if err != nil {
		return err
	}
	if len(sends) == 0 {
		return river.JobCancel(fmt.Errorf("deliver %s to %s: nothing left to send", what, host))
	}

	// Each activity goes to each inbox, activities in the job's order. An
	// inbox that fails an activity is sent none of the later ones in this
	// job: what it has left is the rest of the job from that activity on,
	// so that it still receives them in order.
	from := make(map[string]int)  // inbox → index in sends of the first activity it has left
	gone := make(map[string]bool) // takes nothing more: 410 Gone, forbidden address
	var lastErr, refusedErr error
	var retryAfter time.Duration
	sent, delivered, refused, failed := 0, 0, 0, 0
	halted := false // shutting down, out of budget, or the host paused: nothing more is sent
	deadline := time.Now().Add(jobBudget)
	for k, a := range sends {
		for _, inbox := range inboxes {
			if hostOf(inbox) != host {
				w.log.WarnContext(ctx, "delivery job mixes hosts", "activity", a.id, "inbox", inbox)
				continue
			}
			if _, waiting := from[inbox]; waiting || gone[inbox] {
				continue
			}
			halted = halted || ctx.Err() != nil || sent > 0 && time.Now().After(deadline)
			if halted {
				from[inbox] = k
				continue
			}
			err := w.client.Post(ctx, inbox, a.body, a.signer)
			sent++
			v := w.outcome(ctx, job, a.id, host, inbox, err)
			switch {
			case err == nil:
				delivered++
			case !v.retry:
				refused, refusedErr = refused+1, err
				gone[inbox] = v.gone
			default:
				failed, lastErr, retryAfter = failed+1, err, max(retryAfter, v.retryAfter)
				from[inbox] = k
				halted = v.paused
			}
		}
	}
	if len(from) == 0 {
		if delivered == 0 && refused > 0 {
			return river.JobCancel(refusedErr) // nobody took it: the job says so
		}
		return nil
	}
	if failed > 0 && expired {
		return river.JobCancel(fmt.Errorf("gave up after %s: %w", GiveUpAfter, lastErr))
	}
	if failed > 0 && delivered+refused == 0 {
		// No progress: River retries this job as it is.
		if retryAfter > 0 {
			return river.JobSnooze(retryAfter)
		}
		return lastErr
	}
	return w.continueWith(ctx, job, since, sends, inboxes, from, failed > 0, retryAfter)
}

// prepare reads the job's activities (one query for those not in memory)
// and their signing keys. An activity no longer stored, or one for a host
// now blocked (Rejects excepted), or whose actor has no keys, is dropped
// with a log line; a failed read fails the job before anything is sent.
func (w *deliveryWorker) prepare(ctx context.Context, ids []string, host string) ([]sending, error) {
	acts, err := w.activities.getMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]sending, 0, len(ids))
	for _, id := range ids {
		act, ok := acts[id]
		if !ok {
			w.log.InfoContext(ctx, "delivery of an activity no longer stored dropped", "activity", id)
			continue
		}
		if w.blocked != nil && act.typ != "Reject" && w.blocked(ctx, host) {
			w.log.InfoContext(ctx, "delivery dropped", "activity", id, "host", host, "err", federation.ErrDomainBlocked)
			continue
		}
		kp, err := w.key(ctx, act.keyOwner)
		if errors.Is(err, federation.ErrNoKeys) {
			w.log.WarnContext(ctx, "delivery dropped", "activity", id, "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sending{id: id, body: act.body, signer: &federation.Signer{KeyID: federation.MainKey(act.actorIRI), Key: kp.RSA}})
	}
	return out, nil
}

// continueWith completes job and enqueues, in the same transaction, jobs
// for what is left: each inbox of from with the activities from the first
// it has left, in order (inboxes left from the same activity share a job).
// They run after the backoff (or Retry-After if longer) when anything
// failed, at once otherwise.
func (w *deliveryWorker) continueWith(ctx context.Context, job *river.Job[deliveryArgs], since time.Time, sends []sending, inboxes []string, from map[string]int, failed bool, retryAfter time.Duration) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	// Finish the bookkeeping even when shutting down, or the inboxes that
	// were delivered would be sent again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	failures := job.Args.Failures + len(job.Errors)
	at := time.Now()
	if failed {
		failures++
		at = at.Add(max(w.retryDelay(failures), retryAfter))
	}
	var next []deliveryArgs
	byFirst := make(map[int]int) // first activity left → index in next
	for _, inbox := range inboxes {
		k, ok := from[inbox]
		if !ok {
			continue
		}
		if i, ok := byFirst[k]; ok {
			next[i].Inboxes = append(next[i].Inboxes, inbox)
			continue
		}
		byFirst[k] = len(next)
		a := deliveryArgs{ActivityID: sends[k].id, Inboxes: []string{inbox}, Failures: failures, Since: since}
		for _, s := range sends[k+1:] {
			a.More = append(a.More, s.id)
		}
		next = append(next, a)
	}
	params := make([]river.InsertManyParams, len(next))
	for i, a := range next {
		params[i] = river.InsertManyParams{Args: a.insertable(), InsertOpts: &river.InsertOpts{ScheduledAt: at}}
	}
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("deliver %s: enqueue what is left: %w", job.Args.what(), err)
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// verdict is what one delivery's answer means for its inbox.
type verdict struct {
	retry      bool          // try it again later
	retryAfter time.Duration // the Retry-After the inbox asked for
	paused     bool          // its failure paused the host: send nothing more there now
	gone       bool          // the inbox takes nothing more (410 Gone, forbidden address)
}

// outcome judges the answer of one inbox, counts and logs it.
func (w *deliveryWorker) outcome(ctx context.Context, job *river.Job[deliveryArgs], activity, host, inbox string, err error) verdict {
	if err == nil {
		w.count("2xx")
		w.log.DebugContext(ctx, "delivered", "activity", activity, "inbox", inbox, "attempt", job.Attempt)
		if berr := w.breaker.success(ctx, host); berr != nil {
			w.log.WarnContext(ctx, "record host success", "host", host, "err", berr)
		}
		return verdict{}
	}
	if ctx.Err() != nil {
		// Shutting down or timed out: not the host's fault.
		return verdict{retry: true}
	}
	var status *federation.StatusError
	switch {
	case errors.As(err, &status) && status.StatusCode == http.StatusGone:
		w.count("gone")
		w.log.InfoContext(ctx, "inbox gone", "activity", activity, "inbox", inbox)
		if w.gone != nil {
			if gerr := w.gone(ctx, inbox); gerr != nil {
				w.log.WarnContext(ctx, "drop gone inbox", "inbox", inbox, "err", gerr)
			}
		}
		w.breaker.success(ctx, host)
		return verdict{gone: true}
	case errors.As(err, &status) && !retryableStatus(status.StatusCode):
		w.count("4xx")
		w.log.InfoContext(ctx, "delivery refused", "activity", activity, "inbox", inbox, "status", status.StatusCode)
		w.breaker.success(ctx, host)
		return verdict{}
	case errors.Is(err, federation.ErrForbiddenAddress):
		w.count("forbidden")
		w.log.InfoContext(ctx, "delivery to a forbidden address dropped", "activity", activity, "inbox", inbox)
		return verdict{gone: true}
	}

	// Retryable: 401, 408, 429, 5xx or a network error.
	switch {
	case status == nil:
		w.count("network")
	case status.StatusCode >= 500:
		w.count("5xx")
	default:
		w.count("4xx-retried")
	}
	until, ferr := w.breaker.failure(ctx, host)
	if ferr != nil {
		w.log.WarnContext(ctx, "record host failure", "host", host, "err", ferr)
	}
	w.log.InfoContext(ctx, "delivery failed, will retry", "activity", activity, "inbox", inbox, "attempt", job.Attempt, "err", err)
	v := verdict{retry: true, paused: time.Until(until) > 0}
	if status != nil {
		v.retryAfter, _ = parseRetryAfter(status.RetryAfter, time.Now())
	}
	return v
}

func (w *deliveryWorker) count(class string) {
	if w.outcomeFunc != nil {
		w.outcomeFunc(class)
	}
}

// retryableStatus says whether a delivery answered with code is tried
// again. Besides 429 and 5xx, 401 and 408 are: Mastodon answers 401 while it
// cannot yet fetch the sender's key (its own fetch timed out, or the key
// was just created), and 408 is the peer giving up on a slow request.
func retryableStatus(code int) bool {
	switch {
	case code == http.StatusUnauthorized, code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return true
	case code >= 500:
		return true
	}
	return false
}
