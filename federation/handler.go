package federation

import (
	"errors"
	"log/slog"
	"net/http"

	vocab "github.com/go-ap/activitypub"
	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// Handler serves actor documents, keys, WebFinger, host-meta and NodeInfo.
type Handler struct {
	URLs    URLs
	Courses *courses.Store
	Keys    *KeyStore
	// Verifier checks signed GETs when AuthorizedFetch is on.
	Verifier *Verifier
	// AuthorizedFetch requires a valid signature on ActivityStreams GETs of
	// user actors and collections (the instance actor stays public, so peers
	// can fetch the key they sign with).
	AuthorizedFetch bool
	// CoursePageFunc renders a course's HTML page, for browsers that ask for
	// a course's IRI.
	CoursePageFunc func(w http.ResponseWriter, r *http.Request, slug string)
	// SignatureFailureFunc is told the reason of every refused signature.
	SignatureFailureFunc func(reason string)
	// Cache keeps rendered actor documents and WebFinger answers for a
	// short time; nil renders every request from the database.
	Cache   *DocCache
	Version string
	Logger  *slog.Logger
}

// Routes mounts the handler's endpoints on r.
func (h *Handler) Routes(r chi.Router) {
	r.Get("/.well-known/webfinger", h.webfinger)
	r.Get("/.well-known/host-meta", h.hostMeta)
	r.Get("/.well-known/nodeinfo", h.nodeInfoLinks)
	r.Get("/nodeinfo/{version:2\\.[01]}", h.nodeInfo)
	r.Get("/actor", h.instanceActor)
	r.Group(func(r chi.Router) {
		if h.AuthorizedFetch {
			r.Use(h.requireSignature)
		}
		r.Get("/users/{name}", h.userActor)
		r.Get("/users/{name}/followers", h.emptyCollection("followers"))
		r.Get("/users/{name}/following", h.emptyCollection("following"))
		r.Get("/courses/{slug}", h.courseActor)
		r.Get("/courses/{slug}/followers", h.courseFollowers)
		r.Get("/courses/{slug}/following", h.courseFollowing)
		r.Get("/posts/{id}", h.post)
	})
}

func (h *Handler) instanceActor(w http.ResponseWriter, r *http.Request) {
	if !WantsActivityJSON(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if doc, ok := h.Cache.get(docActor, ""); ok {
		writeActivityJSON(w, http.StatusOK, doc)
		return
	}
	kp, err := h.Keys.Get(r.Context(), "")
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	doc, err := h.URLs.ActorDocument(LocalActor{
		Owner: "", Type: vocab.ApplicationType, Name: h.URLs.Host,
		Summary: "The colearn instance " + h.URLs.Host, ProfileURL: h.URLs.Base() + "/",
		Keys: kp, ManuallyApproves: true,
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.Cache.put(docActor, "", doc)
	writeActivityJSON(w, http.StatusOK, doc)
}

func (h *Handler) userActor(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if !WantsActivityJSON(r) {
		http.Redirect(w, r, "/@"+name, http.StatusSeeOther)
		return
	}
	if name == "" {
		http.Error(w, "no such actor", http.StatusNotFound)
		return
	}
	if doc, ok := h.Cache.get(docActor, name); ok {
		writeActivityJSON(w, http.StatusOK, doc)
		return
	}
	u, err := h.Courses.UserByUsername(r.Context(), name)
	if errors.Is(err, courses.ErrNotFound) {
		http.Error(w, "no such actor", http.StatusNotFound)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	kp, err := h.Keys.Get(r.Context(), u.Username)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	doc, err := h.URLs.ActorDocument(LocalActor{
		Owner: u.Username, Type: vocab.PersonType, Name: u.DisplayName, Summary: h.Courses.Content().Markdown(u.Summary),
		ProfileURL: h.URLs.Profile(u.Username), Keys: kp, Discoverable: true,
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.Cache.put(docActor, name, doc)
	writeActivityJSON(w, http.StatusOK, doc)
}

// emptyCollection serves a user's followers or following. Users follow and
// are followed through courses, which come later; until then both are empty.
func (h *Handler) emptyCollection(which string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "name")
		if _, err := h.Courses.UserByUsername(r.Context(), name); errors.Is(err, courses.ErrNotFound) {
			http.Error(w, "no such actor", http.StatusNotFound)
			return
		} else if err != nil {
			h.serverError(w, r, err)
			return
		}
		writeCollection(w, r, h.URLs.User(name)+"/"+which, nil, followersPageSize)
	}
}

// requireSignature refuses unsigned or wrongly signed ActivityStreams GETs.
// Browsers asking for HTML pass: they are redirected to public pages.
func (h *Handler) requireSignature(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if WantsActivityJSON(r) {
			if _, err := h.Verifier.Verify(r.Context(), r, nil); err != nil {
				RefuseSignature(w, r, err, h.Logger, h.SignatureFailureFunc)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if h.Logger != nil {
		h.Logger.Error("federation handler failed", "path", r.URL.Path, "err", err)
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}
