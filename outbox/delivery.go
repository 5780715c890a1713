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

// deliveryWorker sends one stored activity to the inboxes of one host that
// its job carries and decides, from each answer, whether that inbox is
// done, retried, snoozed or abandoned:
//
//	2xx                          done; the host's breaker closes
//	401, 408, 429, 5xx, network  retried (Backoff), or snoozed for Retry-After
//	410 Gone                     abandoned; GoneFunc reports the inbox
//	other 4xx, forbidden address abandoned, no retry
//	host paused by the breaker   snoozed until the pause ends, no request
//
// Only the inboxes that failed are retried: when some succeed, the job
// completes and a continuation job (deliveryArgs.Failures, Since) carries
// the rest. When all fail, River retries the job itself.
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

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	inboxes := job.Args.targets()
	if len(inboxes) == 0 {
		return river.JobCancel(fmt.Errorf("deliver %s: no inbox", job.Args.ActivityID))
	}
	u, err := url.Parse(inboxes[0])
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return river.JobCancel(fmt.Errorf("deliver %s to %q: not an inbox URL", job.Args.ActivityID, inboxes[0]))
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
			return river.JobCancel(fmt.Errorf("deliver %s to %s: gave up after %s, host paused", job.Args.ActivityID, host, GiveUpAfter))
		}
		// A little jitter, so the backlog of a host does not all wake at once.
		return river.JobSnooze(wait + rand.N(wait/10+time.Second))
	}

	act, err := w.activities.get(ctx, job.Args.ActivityID)
	if errors.Is(err, errNoActivity) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	if w.blocked != nil && act.typ != "Reject" && w.blocked(ctx, host) {
		return river.JobCancel(fmt.Errorf("deliver %s to %s: %w", job.Args.ActivityID, host, federation.ErrDomainBlocked))
	}
	kp, err := w.key(ctx, act.keyOwner)
	if errors.Is(err, federation.ErrNoKeys) {
		return river.JobCancel(fmt.Errorf("deliver %s: %w", job.Args.ActivityID, err))
	}
	if err != nil {
		return err
	}
	signer := &federation.Signer{KeyID: federation.MainKey(act.actorIRI), Key: kp.RSA}

	var failed, untried []string
	var lastErr, refusedErr error
	refused := 0
	var retryAfter time.Duration
	deadline := time.Now().Add(jobBudget)
	for i, inbox := range inboxes {
		if ctx.Err() != nil || i > 0 && time.Now().After(deadline) {
			untried = inboxes[i:]
			break
		}
		if hostOf(inbox) != host {
			w.log.WarnContext(ctx, "delivery job mixes hosts", "activity", job.Args.ActivityID, "inbox", inbox)
			continue
		}
		err := w.client.Post(ctx, inbox, act.body, signer)
		retry, ra, paused := w.outcome(ctx, job, host, inbox, err)
		if !retry {
			if err != nil {
				refused, refusedErr = refused+1, err
			}
			continue
		}
		failed, lastErr, retryAfter = append(failed, inbox), err, max(retryAfter, ra)
		if paused {
			untried = inboxes[i+1:]
			break
		}
	}
	if len(failed) == 0 && len(untried) == 0 {
		if refused == len(inboxes) {
			return river.JobCancel(refusedErr) // nobody took it: the job says so
		}
		return nil
	}
	if len(failed) > 0 && expired {
		return river.JobCancel(fmt.Errorf("gave up after %s: %w", GiveUpAfter, lastErr))
	}
	if len(failed)+len(untried) == len(inboxes) && len(failed) > 0 {
		// No progress: River retries this job as it is.
		if retryAfter > 0 {
			return river.JobSnooze(retryAfter)
		}
		return lastErr
	}
	return w.continueWith(ctx, job, since, failed, untried, retryAfter)
}

// continueWith completes job and enqueues, in the same transaction, a job
// for the inboxes that failed (after the backoff, or Retry-After if
// longer) and those not tried yet (at once, when nothing failed).
func (w *deliveryWorker) continueWith(ctx context.Context, job *river.Job[deliveryArgs], since time.Time, failed, untried []string, retryAfter time.Duration) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	// Finish the bookkeeping even when shutting down, or the inboxes that
	// were delivered would be sent again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	next := deliveryArgs{ActivityID: job.Args.ActivityID, Inboxes: append(failed, untried...), Failures: job.Args.Failures + len(job.Errors), Since: since}
	at := time.Now()
	if len(failed) > 0 {
		next.Failures++
		at = at.Add(max(w.retryDelay(next.Failures), retryAfter))
	}
	return pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		if _, err := client.InsertTx(ctx, tx, next, &river.InsertOpts{ScheduledAt: at}); err != nil {
			return fmt.Errorf("deliver %s: enqueue the %d inboxes left: %w", job.Args.ActivityID, len(next.Inboxes), err)
		}
		_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job)
		return err
	})
}

// outcome judges the answer of one inbox: whether to retry it, the
// Retry-After it asked for, and whether its failure paused the host.
func (w *deliveryWorker) outcome(ctx context.Context, job *river.Job[deliveryArgs], host, inbox string, err error) (retry bool, retryAfter time.Duration, paused bool) {
	if err == nil {
		w.count("2xx")
		w.log.DebugContext(ctx, "delivered", "activity", job.Args.ActivityID, "inbox", inbox, "attempt", job.Attempt)
		if berr := w.breaker.success(ctx, host); berr != nil {
			w.log.WarnContext(ctx, "record host success", "host", host, "err", berr)
		}
		return false, 0, false
	}
	if ctx.Err() != nil {
		// Shutting down or timed out: not the host's fault.
		return true, 0, false
	}
	var status *federation.StatusError
	switch {
	case errors.As(err, &status) && status.StatusCode == http.StatusGone:
		w.count("gone")
		w.log.InfoContext(ctx, "inbox gone", "activity", job.Args.ActivityID, "inbox", inbox)
		if w.gone != nil {
			if gerr := w.gone(ctx, inbox); gerr != nil {
				w.log.WarnContext(ctx, "drop gone inbox", "inbox", inbox, "err", gerr)
			}
		}
		w.breaker.success(ctx, host)
		return false, 0, false
	case errors.As(err, &status) && !retryableStatus(status.StatusCode):
		w.count("4xx")
		w.log.InfoContext(ctx, "delivery refused", "activity", job.Args.ActivityID, "inbox", inbox, "status", status.StatusCode)
		w.breaker.success(ctx, host)
		return false, 0, false
	case errors.Is(err, federation.ErrForbiddenAddress):
		w.count("forbidden")
		w.log.InfoContext(ctx, "delivery to a forbidden address dropped", "activity", job.Args.ActivityID, "inbox", inbox)
		return false, 0, false
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
	w.log.InfoContext(ctx, "delivery failed, will retry", "activity", job.Args.ActivityID, "inbox", inbox, "attempt", job.Attempt, "err", err)
	if status != nil {
		retryAfter, _ = parseRetryAfter(status.RetryAfter, time.Now())
	}
	return true, retryAfter, time.Until(until) > 0
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
