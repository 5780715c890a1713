package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// pageFunc loads what a public page shows and the scopes that would change
// it. courses.ErrNotFound becomes the 404 page with notFound's message.
type pageFunc func(ctx context.Context) (page, []courses.Scope, error)

// publicPage answers a public page (a course, a profile, a post, the
// catalogue): signed-in visitors get it rendered for them (their name in
// the header, their buttons) and marked private; anonymous visitors share
// one rendering per change of what it shows, kept in the document cache
// under key and offered to shared caches briefly, with an ETag for
// conditional requests. vary names the request headers besides Cookie that
// change the answer (Accept, where the same URL serves ActivityStreams).
func (h *Handler) publicPage(w http.ResponseWriter, r *http.Request, key, notFound string, load pageFunc, vary ...string) {
	if viewer(r) != nil {
		p, _, err := load(r.Context())
		if h.pageFailed(w, r, notFound, err) {
			return
		}
		for _, v := range vary {
			w.Header().Add("Vary", v)
		}
		h.renderWith(w, r, http.StatusOK, p)
		return
	}
	d, err := h.cfg.Cache.Get(r.Context(), "page:"+key, func(ctx context.Context) (federation.Doc, []courses.Scope, error) {
		p, scopes, err := load(ctx)
		if err != nil {
			return federation.Doc{}, nil, err
		}
		body, err := h.renderPage(r, p)
		return federation.Doc{Body: body, ContentType: "text/html; charset=utf-8"}, append(scopes, courses.SiteScope), err
	})
	if h.pageFailed(w, r, notFound, err) {
		return
	}
	federation.WriteDoc(w, r, d, federation.CachePublic, append([]string{"Cookie"}, vary...)...)
}

// pageFailed answers a failed page load and reports whether it failed.
func (h *Handler) pageFailed(w http.ResponseWriter, r *http.Request, notFound string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, courses.ErrNotFound):
		h.renderError(w, r, http.StatusNotFound, "Not found", notFound)
	case errors.Is(err, errPostGone):
		h.renderError(w, r, http.StatusGone, "Deleted", "This post was deleted.")
	default:
		h.serverError(w, r, fmt.Errorf("%s: %w", r.URL.Path, err))
	}
	return true
}

// recordedPage is publicPage for pages whose handlers write their answer
// themselves: write renders into a recorder and names the scopes the page
// shows (nil when it answered an error). A 200 is kept in the document
// cache under key and served to anonymous visitors until those scopes
// change; any other answer is passed through and not kept.
func (h *Handler) recordedPage(w http.ResponseWriter, r *http.Request, key string, write func(w http.ResponseWriter) []courses.Scope) {
	d, err := h.cfg.Cache.Get(r.Context(), "page:"+key, func(ctx context.Context) (federation.Doc, []courses.Scope, error) {
		rec := federation.NewRecorder()
		scopes := write(rec)
		if rec.Status() != http.StatusOK || scopes == nil {
			return federation.Doc{}, nil, &federation.Unkept{Rec: rec}
		}
		return federation.Doc{Body: rec.Body(), ContentType: "text/html; charset=utf-8"}, append(scopes, courses.SiteScope), nil
	})
	var u *federation.Unkept
	switch {
	case errors.As(err, &u):
		u.WriteTo(w)
	case err != nil:
		h.serverError(w, r, fmt.Errorf("%s: %w", r.URL.Path, err))
	default:
		federation.WriteDoc(w, r, d, federation.CachePublic, "Cookie", "Accept")
	}
}
