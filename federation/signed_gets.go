package federation

import "net/http"

// SignedGets is the middleware that, with AuthorizedFetch on, refuses
// unsigned or wrongly signed ActivityStreams GETs (401) the way the actor
// and collection routes do; with it off it changes nothing. The outbox and
// activity routes mounted outside this package use it, so that authorized
// fetch covers every document but the instance actor's.
func (h *Handler) SignedGets(next http.Handler) http.Handler {
	if !h.AuthorizedFetch {
		return next
	}
	return h.requireSignature(next)
}

// WriteSigned writes d, a document that needs a signature with authorized
// fetch on: then its answer depends on who asked, and shared caches must
// not keep it.
func (h *Handler) WriteSigned(w http.ResponseWriter, r *http.Request, d Doc) { h.writeSigned(w, r, d) }
