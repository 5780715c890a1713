package federation

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// Every id colearn emits can be fetched, inboxes and the instance actor's
// collections included. An inbox answers a GET with an empty
// OrderedCollection: colearn does not publish what it was sent. The
// instance actor follows no one and has no followers.

// inboxCollectionRoutes mounts GET of user and course inboxes (behind
// signature checks with authorized fetch, like the actors).
func (h *Handler) inboxCollectionRoutes(r chi.Router) {
	r.Get("/users/{name}/inbox", func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "name")
		h.serveDoc(w, r, "inbox:user:"+strings.ToLower(name)+"?"+r.URL.Query().Get("page"), "no such actor", false,
			func(ctx context.Context) (Doc, []courses.Scope, error) {
				u, err := h.Courses.UserByUsername(ctx, name)
				if err != nil {
					return Doc{}, nil, err
				}
				body, err := emptyCollection(r, h.URLs.User(u.Username)+"/inbox")
				return activityDoc(body, 0), []courses.Scope{courses.UserScope(u.Username)}, err
			})
	})
	r.Get("/courses/{slug}/inbox", func(w http.ResponseWriter, r *http.Request) {
		key := "inbox:course:" + strings.ToLower(chi.URLParam(r, "slug")) + "?" + r.URL.Query().Get("page")
		h.serveDoc(w, r, key, "no such course", false, h.courseDoc(r, func(ctx context.Context, c courses.Course) ([]byte, error) {
			return emptyCollection(r, h.URLs.Course(c.Slug)+"/inbox")
		}))
	})
}

// instanceCollectionRoutes mounts the shared inbox's GET and the instance
// actor's inbox, followers and following, public like the instance actor.
// (Its outbox is served with the other outboxes.)
func (h *Handler) instanceCollectionRoutes(r chi.Router) {
	for _, id := range []string{
		h.URLs.SharedInbox(),
		h.URLs.InstanceActor() + "/inbox",
		h.URLs.InstanceActor() + "/followers",
		h.URLs.InstanceActor() + "/following",
	} {
		r.Get(strings.TrimPrefix(id, h.URLs.Base()), func(w http.ResponseWriter, r *http.Request) {
			body, err := emptyCollection(r, id)
			if err != nil {
				h.serverError(w, r, err)
				return
			}
			WriteDoc(w, r, activityDoc(body, 0), CachePublic, "Accept")
		})
	}
}
