package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
)

// catalogueLimit is how many local courses the catalogue lists.
const catalogueLimit = 200

// excerptLen is the length, in characters, of a summary in the catalogue.
const excerptLen = 200

type catalogueCourse struct {
	Slug, Title, Excerpt, Handle string
	Members                      int
}

// remoteCourse is a course on another server as the pages show it: its
// IRI, and its name and handle when the resolver knows them.
type remoteCourse struct {
	IRI, Name, Handle, State string
}

type catalogueData struct {
	Courses []catalogueCourse
	Remote  []remoteCourse
}

// catalogue lists the local courses and, for a signed-in user, their
// enrollments in courses on other servers.
func (h *Handler) catalogue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := h.cfg.Store.Courses(ctx, catalogueLimit)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("catalogue: %w", err))
		return
	}
	var data catalogueData
	for _, c := range list {
		n, err := h.cfg.Store.MemberCount(ctx, h.cfg.Pool, c.ID)
		if err != nil {
			h.serverError(w, r, fmt.Errorf("catalogue: %w", err))
			return
		}
		data.Courses = append(data.Courses, catalogueCourse{
			Slug: c.Slug, Title: c.Title, Members: n, Handle: h.courseHandle(c),
			Excerpt: h.cfg.Store.Content().Excerpt(c.Summary, excerptLen),
		})
	}
	if me := viewer(r); me != nil {
		ens, err := h.cfg.Store.EnrollmentsOf(ctx, h.cfg.Pool, me.ID)
		if err != nil {
			h.serverError(w, r, fmt.Errorf("catalogue: %w", err))
			return
		}
		for _, e := range ens {
			rc := h.describeRemote(ctx, e.CourseIRI)
			rc.State = e.State
			data.Remote = append(data.Remote, rc)
		}
	}
	h.render(w, r, http.StatusOK, "catalogue", "Courses", data)
}

// courseHandle is a local course's fediverse handle, @slug@host.
func (h *Handler) courseHandle(c courses.Course) string { return "@" + c.Slug + "@" + h.cfg.Host }

// describeRemote names a remote course from what the resolver has stored
// (it fetches the actor only when it has never seen it). A course that
// cannot be resolved is shown by its IRI.
func (h *Handler) describeRemote(ctx context.Context, iri string) remoteCourse {
	rc := remoteCourse{IRI: iri, Name: iri}
	if h.cfg.Actions == nil || h.cfg.Actions.Resolver == nil {
		return rc
	}
	ra, err := h.cfg.Actions.Resolver.Actor(ctx, iri, false)
	if err != nil {
		h.log.WarnContext(ctx, "describe remote course", "iri", iri, "err", err)
		return rc
	}
	rc.Handle = ra.Handle()
	if ra.Name != "" {
		rc.Name = ra.Name
	} else if rc.Handle != "" {
		rc.Name = rc.Handle
	}
	return rc
}
