package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// cachedOutbox serves the outbox collection (and its pages) of the local
// actor actorIRI from the document cache: every public activity the actor
// publishes announces OutboxScope in its transaction (outbox.Config's
// PublishedFunc), so a kept page is dropped when one commits. Only 200
// answers are kept; any other is passed through as the outbox wrote it.
func (in *instance) cachedOutbox(w http.ResponseWriter, r *http.Request, actorIRI string) {
	if r.Method != http.MethodGet {
		in.outbox.Collection(w, r, actorIRI)
		return
	}
	d, err := in.docs.Get(r.Context(), "outbox:"+actorIRI+"?"+r.URL.RawQuery, func(ctx context.Context) (federation.Doc, []courses.Scope, error) {
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		in.outbox.Collection(rec, r.WithContext(ctx), actorIRI)
		if rec.status != http.StatusOK {
			return federation.Doc{}, nil, &uncached{rec}
		}
		return federation.Doc{Body: rec.body.Bytes(), ContentType: rec.header.Get("Content-Type")},
			[]courses.Scope{courses.OutboxScope(actorIRI)}, nil
	})
	var u *uncached
	switch {
	case errors.As(err, &u):
		for k, v := range u.rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(u.rec.status)
		w.Write(u.rec.body.Bytes())
	case err != nil:
		in.log.Error("outbox collection", "actor", actorIRI, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		federation.WriteDoc(w, r, d, federation.CachePublic, "Accept")
	}
}

// recorder keeps what a handler writes.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// uncached carries an answer that is not kept (an error page).
type uncached struct{ rec *recorder }

func (u *uncached) Error() string { return http.StatusText(u.rec.status) }
