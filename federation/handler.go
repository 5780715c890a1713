package federation

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

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
	// PostPageFunc renders the HTML page of a local post (or lesson) iri,
	// for browsers that ask for its IRI; nil redirects them to the post's
	// place in its course's discussion.
	PostPageFunc func(w http.ResponseWriter, r *http.Request, iri string)
	// TagPageFunc renders the HTML page of a hashtag (a normalized name),
	// for browsers that ask for /tags/NAME; nil answers them with JSON.
	TagPageFunc func(w http.ResponseWriter, r *http.Request, tag string)
	// SignatureFailureFunc is told the reason of every refused signature.
	SignatureFailureFunc func(reason string)
	// Cache keeps rendered documents until what they show changes; nil
	// renders every request from the database.
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
	// Documents that browsers get as HTML pages: with authorized fetch,
	// only the ActivityStreams form needs a signature.
	r.Group(func(r chi.Router) {
		if h.AuthorizedFetch {
			r.Use(h.requireSignature)
		}
		r.Get("/users/{name}", h.userActor)
		r.Get("/courses/{slug}", h.courseActor)
		r.Get("/posts/{id}", h.post)
		r.Get("/catalogue", h.catalogue) // catalogue.go: the published catalogue (co-hosting)
		r.Get("/tags/{name}", h.tag)     // tags.go
	})
	// Documents that are ActivityStreams whatever the Accept header says:
	// with authorized fetch, every GET of them needs a signature.
	r.Group(func(r chi.Router) {
		r.Use(h.SignedGets)
		r.Get("/users/{name}/followers", h.userFollowers) // user_followers.go
		r.Get("/users/{name}/following", h.userCollection("following"))
		r.Get("/courses/{slug}/followers", h.courseFollowers)
		r.Get("/courses/{slug}/following", h.courseFollowing)
		r.Get("/posts/{id}/replies", h.replies) // replies.go
		h.inboxCollectionRoutes(r)              // inbox_collection.go
	})
	h.instanceCollectionRoutes(r) // inbox_collection.go
}

// activityDoc makes a Doc of an ActivityStreams body.
func activityDoc(body []byte, status int) Doc {
	return Doc{Body: body, ContentType: ContentTypeActivity + "; charset=utf-8", Status: status}
}

// writeSigned writes d, a document that needs a signature in authorized-fetch
// mode: then it depends on who asked and must not be kept by shared caches.
func (h *Handler) writeSigned(w http.ResponseWriter, r *http.Request, d Doc) {
	if h.AuthorizedFetch {
		WriteDoc(w, r, d, CachePrivate, "Accept", "Signature", "Authorization")
		return
	}
	WriteDoc(w, r, d, CachePublic, "Accept")
}

// serveDoc answers r with the cached document key, rendering it with render
// when needed; courses.ErrNotFound becomes 404 with notFound as message.
func (h *Handler) serveDoc(w http.ResponseWriter, r *http.Request, key, notFound string, public bool, render RenderFunc) {
	d, err := h.Cache.Get(r.Context(), key, render)
	switch {
	case errors.Is(err, courses.ErrNotFound):
		http.Error(w, notFound, http.StatusNotFound)
	case err != nil:
		h.serverError(w, r, err)
	case public:
		WriteDoc(w, r, d, CachePublic, "Accept")
	default:
		h.writeSigned(w, r, d)
	}
}

func (h *Handler) instanceActor(w http.ResponseWriter, r *http.Request) {
	if !WantsActivityJSON(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	h.serveDoc(w, r, "actor:", "no such actor", true, func(ctx context.Context) (Doc, []courses.Scope, error) {
		kp, err := h.Keys.Get(ctx, "")
		if err != nil {
			return Doc{}, nil, err
		}
		id, err := h.Courses.Identity(ctx)
		if err != nil {
			return Doc{}, nil, err
		}
		doc, err := h.URLs.ActorDocument(LocalActor{
			Owner: "", Type: vocab.ApplicationType, Name: id.SiteName(h.URLs.Host),
			Summary: id.SummaryOr("The colearn instance " + h.URLs.Host), ProfileURL: h.URLs.Base() + "/",
			Keys: kp, ManuallyApproves: true,
		})
		return activityDoc(doc, 0), []courses.Scope{courses.SiteScope}, err
	})
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
	h.serveDoc(w, r, "actor:user:"+strings.ToLower(name), "no such actor", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
		u, err := h.Courses.UserByUsername(ctx, name)
		if err != nil {
			return Doc{}, nil, err
		}
		kp, err := h.Keys.Get(ctx, u.Username)
		if err != nil {
			return Doc{}, nil, err
		}
		doc, err := h.URLs.ActorDocument(LocalActor{
			Owner: u.Username, Type: vocab.PersonType, Name: u.DisplayName, Summary: h.Courses.Content().Markdown(u.Summary),
			ProfileURL: h.URLs.Profile(u.Username), Keys: kp, Discoverable: true,
			Published: u.CreatedAt, Indexable: u.Indexable,
		})
		return activityDoc(doc, 0), []courses.Scope{courses.UserScope(u.Username)}, err
	})
}

// userCollection serves a user's following, which is empty: colearn
// users follow courses, not people (followers: user_followers.go).
func (h *Handler) userCollection(which string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "name")
		key := which + ":user:" + strings.ToLower(name) + "?" + r.URL.Query().Get("page")
		h.serveDoc(w, r, key, "no such actor", false, func(ctx context.Context) (Doc, []courses.Scope, error) {
			u, err := h.Courses.UserByUsername(ctx, name)
			if err != nil {
				return Doc{}, nil, err
			}
			body, err := emptyCollection(r, h.URLs.User(u.Username)+"/"+which)
			return activityDoc(body, 0), []courses.Scope{courses.UserScope(u.Username)}, err
		})
	}
}

// requireSignature refuses unsigned or wrongly signed ActivityStreams GETs.
// Browsers asking for HTML pass: they are redirected to public pages. Only
// for routes that answer HTML to them; the others use SignedGets.
func (h *Handler) requireSignature(next http.Handler) http.Handler {
	return h.signatureCheck(next, WantsActivityJSON)
}

// signatureCheck refuses the GETs for which needed reports true unless
// they carry a valid signature.
func (h *Handler) signatureCheck(next http.Handler, needed func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if needed(r) {
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
