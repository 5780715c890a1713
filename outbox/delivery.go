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

	"github.com/riverqueue/river"

	"github.com/colearn/colearn/federation"
)

// deliveryWorker sends one stored activity to one inbox and decides, from
// the answer, whether the delivery is done, retried, snoozed or abandoned:
//
//	2xx                          done; the host's breaker closes
//	401, 408, 429, 5xx, network  retried (Backoff), or snoozed for Retry-After
//	410 Gone                     abandoned; GoneFunc reports the inbox
//	other 4xx, forbidden address abandoned (river.JobCancel), no retry
//	host paused by the breaker   snoozed until the pause ends, no request
//
// Fresh deliveries are not starved by retries: River fetches by priority,
// then scheduled_at, and a retry is scheduled into the future, so at any
// moment the backlog competing with fresh deliveries is only the retries
// that are due, not every failed delivery.
type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	keys       *federation.KeyStore
	client     *federation.Client
	log        *slog.Logger
	gone       func(ctx context.Context, inbox string) error
	retryDelay func(attempt int) time.Duration
	breaker    *breaker
	activities *activities
}

// NextRetry schedules the retry after a failed attempt. The error count,
// not the attempt number, says how many attempts failed (snoozes do not).
func (w *deliveryWorker) NextRetry(job *river.Job[deliveryArgs]) time.Time {
	return time.Now().Add(w.retryDelay(len(job.Errors) + 1))
}

func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	inbox := job.Args.Inbox
	u, err := url.Parse(inbox)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return river.JobCancel(fmt.Errorf("deliver %s to %q: not an inbox URL", job.Args.ActivityID, inbox))
	}
	host := strings.ToLower(u.Host)
	expired := time.Since(job.CreatedAt) > GiveUpAfter

	until, err := w.breaker.pausedUntil(ctx, host)
	if err != nil {
		return err
	}
	if wait := time.Until(until); wait > 0 {
		if expired {
			return river.JobCancel(fmt.Errorf("deliver %s to %s: gave up after %s, host paused", job.Args.ActivityID, inbox, GiveUpAfter))
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
	kp, err := w.keys.Get(ctx, act.keyOwner)
	if errors.Is(err, federation.ErrNoKeys) {
		return river.JobCancel(fmt.Errorf("deliver %s: %w", job.Args.ActivityID, err))
	}
	if err != nil {
		return err
	}
	signer := &federation.Signer{KeyID: federation.MainKey(act.actorIRI), Key: kp.RSA}
	err = w.client.Post(ctx, inbox, act.body, signer)
	return w.outcome(ctx, job, host, expired, err)
}

// outcome turns the answer to a POST into River's verdict.
func (w *deliveryWorker) outcome(ctx context.Context, job *river.Job[deliveryArgs], host string, expired bool, err error) error {
	inbox := job.Args.Inbox
	if err == nil {
		w.log.DebugContext(ctx, "delivered", "activity", job.Args.ActivityID, "inbox", inbox, "attempt", job.Attempt)
		return w.breaker.success(ctx, host)
	}
	if ctx.Err() != nil {
		// Shutting down or timed out: not the host's fault; River retries.
		return err
	}
	var status *federation.StatusError
	switch {
	case errors.As(err, &status) && status.StatusCode == http.StatusGone:
		w.log.InfoContext(ctx, "inbox gone", "activity", job.Args.ActivityID, "inbox", inbox)
		if w.gone != nil {
			if gerr := w.gone(ctx, inbox); gerr != nil {
				w.log.WarnContext(ctx, "drop gone inbox", "inbox", inbox, "err", gerr)
			}
		}
		return river.JobCancel(errors.Join(err, w.breaker.success(ctx, host)))
	case errors.As(err, &status) && !retryableStatus(status.StatusCode):
		w.log.InfoContext(ctx, "delivery refused", "activity", job.Args.ActivityID, "inbox", inbox, "status", status.StatusCode)
		return river.JobCancel(errors.Join(err, w.breaker.success(ctx, host)))
	case errors.Is(err, federation.ErrForbiddenAddress):
		return river.JobCancel(err)
	}

	// Retryable: 401, 408, 429, 5xx or a network error.
	if _, ferr := w.breaker.failure(ctx, host); ferr != nil {
		w.log.WarnContext(ctx, "record host failure", "host", host, "err", ferr)
	}
	if expired {
		return river.JobCancel(fmt.Errorf("gave up after %s: %w", GiveUpAfter, err))
	}
	w.log.InfoContext(ctx, "delivery failed, will retry", "activity", job.Args.ActivityID, "inbox", inbox, "attempt", job.Attempt, "err", err)
	if status != nil {
		if d, ok := parseRetryAfter(status.RetryAfter, time.Now()); ok {
			return river.JobSnooze(d)
		}
	}
	return err
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
