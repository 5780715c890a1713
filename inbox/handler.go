package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// MaxBody is the largest activity an inbox accepts (413 beyond it).
const MaxBody = 1 << 20

// Recipients tells whether a local actor exists, for per-actor inboxes.
type Recipients interface {
	UserByUsername(ctx context.Context, username string) (courses.User, error)
	CourseBySlug(ctx context.Context, slug string) (courses.Course, error)
}

// Handler serves the shared inbox and the per-actor inboxes. Accepted
// activities are stored in group commits by writers the Handler starts on
// its first request; Close stops them.
type Handler struct {
	Pool       *pgxpool.Pool
	Verifier   *federation.Verifier
	Recipients Recipients
	URLs       federation.URLs
	Logger     *slog.Logger
	// SignatureFailureFunc is told the reason of every refused signature.
	SignatureFailureFunc func(reason string)
	// AcceptedFunc is told the type of every newly stored activity.
	AcceptedFunc func(activityType string)
	// WakeFunc is called with the actor of an activity just stored, to have
	// it applied.
	WakeFunc func(actor string)
	// BacklogLimit is how many accepted activities may wait, ready to
	// apply, before the inbox answers 429 to the senders that sent the
	// most, and 503 to all past twice it (backlog_limit.go); 0 or less
	// never refuses. Ready counts them (Processor.Ready); without it there
	// is no limit.
	BacklogLimit int64
	Ready        func(ctx context.Context) (int64, error)
	// BusyFunc is told of every activity refused because the backlog is full.
	BusyFunc func()

	startOnce sync.Once
	batch     *batcher
	recent    *recentIDs
	locals    *recipientCache
	backlog   *backlogLimit // nil: no limit
}

func (h *Handler) start() {
	h.startOnce.Do(func() {
		h.batch = newBatcher(h.Pool)
		h.recent = newRecentIDs(recentKept)
		h.locals = newRecipientCache()
		if h.Ready != nil && h.BacklogLimit > 0 {
			h.backlog = newBacklogLimit(h.BacklogLimit, h.Ready, h.Logger)
		}
	})
}

// Close stops the group-commit writers after the batches they hold are
// stored and answered. Requests that arrive afterwards are still served,
// each stored by its own insert. Call it once the HTTP server has stopped
// (or is draining), before the pool closes.
func (h *Handler) Close() {
	h.start()
	h.batch.close()
}

// Routes mounts POST /inbox, /actor/inbox, /users/{name}/inbox and /courses/{slug}/inbox.
func (h *Handler) Routes(r chi.Router) {
	r.Post("/inbox", h.shared)
	r.Post("/actor/inbox", h.shared) // the instance actor's inbox (Flags from Mastodon, co-hosting's Accepts)
	r.Post("/users/{name}/inbox", h.personal)
	r.Post("/courses/{slug}/inbox", h.course)
}

func (h *Handler) course(w http.ResponseWriter, r *http.Request) {
	h.start()
	slug := chi.URLParam(r, "slug")
	if key := "course " + strings.ToLower(slug); !h.locals.known(key) {
		if _, err := h.Recipients.CourseBySlug(r.Context(), slug); errors.Is(err, courses.ErrNotFound) {
			http.Error(w, "no such course", http.StatusNotFound)
			return
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
		h.locals.found(key)
	}
	h.receive(w, r, h.URLs.Course(slug))
}

func (h *Handler) shared(w http.ResponseWriter, r *http.Request) { h.receive(w, r, "") }

func (h *Handler) personal(w http.ResponseWriter, r *http.Request) {
	h.start()
	name := chi.URLParam(r, "name")
	if key := "user " + strings.ToLower(name); !h.locals.known(key) {
		if _, err := h.Recipients.UserByUsername(r.Context(), name); errors.Is(err, courses.ErrNotFound) {
			http.Error(w, "no such actor", http.StatusNotFound)
			return
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
		h.locals.found(key)
	}
	h.receive(w, r, h.URLs.User(name))
}

// receive runs the checks in order of cost: size, the backlog's bound
// (backlog_limit.go), signature, then the activity itself; nothing is
// stored unless all pass. A replay of an activity stored recently is
// acknowledged before any of that, since storing it again would change
// nothing.
func (h *Handler) receive(w http.ResponseWriter, r *http.Request, recipient string) {
	h.start()
	body, err := readBody(w, r)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, fmt.Sprintf("activity larger than %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
		return
	}
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	// Parsed before the signature for the duplicate check, but a malformed
	// body is reported only after the signature, as before.
	env, parseErr := ParseEnvelope(body)
	if parseErr == nil && h.recent.has(env.ID) {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if parseErr == nil && env.Known() {
		if no := h.backlog.busy(env.Actor, env.Type); no != nil {
			if h.BusyFunc != nil {
				h.BusyFunc()
			}
			w.Header().Set("Retry-After", no.retryAfter)
			http.Error(w, "inbox busy: too many activities are waiting to be applied; retry later", no.status)
			return
		}
	}
	h.batch.expect()
	expected := true
	defer func() {
		if expected {
			h.batch.forget()
		}
	}()
	key, err := h.Verifier.Verify(r.Context(), r, body)
	if err != nil {
		federation.RefuseSignature(w, r, err, h.Logger, h.SignatureFailureFunc)
		return
	}
	if parseErr != nil {
		http.Error(w, parseErr.Error(), http.StatusBadRequest)
		return
	}
	if reason, msg := h.policy(env, key); reason != "" {
		federation.RefusePolicy(w, r, reason, msg, h.Logger, h.SignatureFailureFunc)
		return
	}
	if !env.Known() {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	expected = false // store hands the expected row over
	fresh, err := h.store(r.Context(), env, recipient, body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.recent.add(env.ID)
	if fresh {
		h.backlog.took(env.Actor)
	}
	if fresh && h.AcceptedFunc != nil {
		h.AcceptedFunc(env.Type)
	}
	if fresh && h.WakeFunc != nil {
		h.WakeFunc(env.Actor)
	}
	w.WriteHeader(http.StatusAccepted)
}

// policy decides whether a validly signed activity is refused by policy,
// returning the reason (for metrics) and the message the peer is told
// (403), or "" to accept it. Checks that need no database go here, in
// order; add a new one as one more case.
func (h *Handler) policy(env Envelope, key federation.PublicKey) (reason, message string) {
	switch {
	case key.Owner != env.Actor:
		return "actor", fmt.Sprintf("key %s belongs to %s, not to the activity's actor %s", key.ID, key.Owner, env.Actor)
	case !federation.SameOrigin(env.ID, env.Actor):
		return "origin", fmt.Sprintf("activity id %s is not on the origin of its actor %s", env.ID, env.Actor)
	}
	return "", ""
}

// readBody reads at most MaxBody bytes of r's body into a buffer that grows
// as bytes arrive: a declared Content-Length is never trusted to size an
// allocation before the signature is checked, and one over MaxBody is
// refused before anything is read.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, &http.MaxBytesError{Limit: MaxBody}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
}

// store records the activity once, in the next group commit, and returns
// after it is committed; a redelivery changes nothing and reports
// fresh = false. Once the batcher is closed, it inserts the row by itself.
func (h *Handler) store(ctx context.Context, env Envelope, recipient string, body []byte) (fresh bool, err error) {
	fresh, err = h.batch.store(ctx, env, recipient, body)
	if !errors.Is(err, errBatcherClosed) {
		return fresh, err
	}
	tag, err := h.Pool.Exec(ctx, `
		INSERT INTO inbox_activities (activity_id, actor_iri, type, recipient, body)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (activity_id) DO NOTHING`,
		env.ID, env.Actor, env.Type, recipient, body)
	if err != nil {
		return false, fmt.Errorf("store activity %s: %w", env.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.Logger != nil {
		h.Logger.Error("inbox failed", "path", r.URL.Path, "err", err)
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}
