package federation

import "net/http"

// SignedGets is the middleware of routes that answer ActivityStreams
// whatever the Accept header says (collections, outboxes, activities):
// with AuthorizedFetch on it refuses every unsigned or wrongly signed GET
// (401), with no Accept header, */* or text/html alike, since all of them
// would get the document; with it off it changes nothing. The outbox and
// activity routes mounted outside this package use it too, so that
// authorized fetch covers every document but the instance actor's.
func (h *Handler) SignedGets(next http.Handler) http.Handler {
	if !h.AuthorizedFetch {
		return next
	}
	return h.signatureCheck(next, func(*http.Request) bool { return true })
}

// WriteSigned writes d, a document that needs a signature with authorized
// fetch on: then its answer depends on who asked, and shared caches must
// not keep it.
func (h *Handler) WriteSigned(w http.ResponseWriter, r *http.Request, d Doc) { h.writeSigned(w, r, d) }
