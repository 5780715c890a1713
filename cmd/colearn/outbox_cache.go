package main

import (
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
// write sends a kept page (with the caching headers of a public or, under
// authorized fetch, a signed document).
func (in *instance) cachedOutbox(w http.ResponseWriter, r *http.Request, actorIRI string, write func(http.ResponseWriter, *http.Request, federation.Doc)) {
	if r.Method != http.MethodGet {
		in.outbox.Collection(w, r, actorIRI)
		return
	}
	d, err := in.docs.Get(r.Context(), "outbox:"+actorIRI+"?"+r.URL.RawQuery, func(ctx context.Context) (federation.Doc, []courses.Scope, error) {
		rec := federation.NewRecorder()
		in.outbox.Collection(rec, r.WithContext(ctx), actorIRI)
		if rec.Status() != http.StatusOK {
			return federation.Doc{}, nil, &federation.Unkept{Rec: rec}
		}
		return federation.Doc{Body: rec.Body(), ContentType: rec.Header().Get("Content-Type")},
			[]courses.Scope{courses.OutboxScope(actorIRI)}, nil
	})
	var u *federation.Unkept
	switch {
	case errors.As(err, &u):
		u.WriteTo(w)
	case err != nil:
		in.log.Error("outbox collection", "actor", actorIRI, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	default:
		write(w, r, d)
	}
}
