package web

import (
	"context"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// catalogueLimit is how many local courses the catalogue lists.
const catalogueLimit = 200

// excerptLen is the length, in characters, of a summary in the catalogue.
const excerptLen = 200

type catalogueCourse struct {
	Slug, Title, Excerpt, Handle string
	Members                      int
	Language                     string
	Tags                         []string
	// IRI, Host and Cohosted describe a course of another server this
	// instance co-hosts (Slug is then empty).
	IRI, Host string
	Cohosted  bool
}

// remoteCourse is a course on another server as the pages show it: its
// IRI, and its name and handle when the resolver knows them.
type remoteCourse struct {
	IRI, Name, Handle, State string
}

type catalogueData struct {
	Courses []catalogueCourse
	Remote  []remoteCourse
	Query   courses.CatalogueQuery
	Search  bool // a search: Courses are its results
}

// catalogue lists the local and co-hosted courses (?q= words of the
// title, ?tag=, ?lang= narrow it) and, for a signed-in user, their
// enrollments in courses on other servers. It costs a bounded number of
// queries whatever the number of courses and enrollments (one for the
// courses and their member counts; for a signed-in user one for the
// enrollments and one for the stored remote courses), and never fetches.
// Peers asking for ActivityStreams are sent to the published catalogue.
func (h *Handler) catalogue(w http.ResponseWriter, r *http.Request) {
	if federation.WantsActivityJSON(r) {
		http.Redirect(w, r, "/catalogue", http.StatusSeeOther)
		return
	}
	q := courses.CatalogueQuery{Title: r.URL.Query().Get("q"), Tag: r.URL.Query().Get("tag"), Language: r.URL.Query().Get("lang")}
	if err := q.Validate(); err != nil {
		_, msg, _ := actionError(err)
		h.renderError(w, r, http.StatusBadRequest, "Bad search", msg)
		return
	}
	load := func(ctx context.Context) (page, []courses.Scope, error) {
		list, err := h.cfg.Store.Catalogue(ctx, q, h.cfg.URLs.Base(), catalogueLimit, 0)
		if err != nil {
			return page{}, nil, err
		}
		data := catalogueData{Query: q, Search: !q.Empty()}
		for _, c := range list {
			cc := catalogueCourse{Slug: c.Slug, Title: c.Title, Members: c.Members, Handle: c.Handle,
				Language: c.Language, Tags: c.Tags, IRI: c.IRI, Host: c.Host, Cohosted: c.Cohosted}
			if c.Cohosted {
				cc.Excerpt = h.cfg.Store.Content().ExcerptHTML(c.Summary, excerptLen)
			} else {
				cc.Handle = "@" + c.Slug + "@" + h.cfg.Host
				cc.Excerpt = h.cfg.Store.Content().Excerpt(c.Summary, excerptLen)
			}
			data.Courses = append(data.Courses, cc)
		}
		if me := viewer(r); me != nil {
			ens, err := h.cfg.Store.EnrollmentsOf(ctx, h.cfg.Pool, me.ID)
			if err != nil {
				return page{}, nil, err
			}
			iris := make([]string, 0, len(ens))
			for _, e := range ens {
				iris = append(iris, e.CourseIRI)
			}
			known, err := federation.StoredActors(ctx, h.cfg.Pool, iris)
			if err != nil {
				return page{}, nil, err
			}
			for _, e := range ens {
				rc := describeStored(e.CourseIRI, known)
				rc.State = e.State
				data.Remote = append(data.Remote, rc)
			}
		}
		return page{Name: "catalogue", Title: "Courses", Data: data, Meta: pageMeta{
			OGType: "website", URL: h.cfg.URLs.Base() + "/courses", Description: "The courses of " + h.cfg.Host,
			Alternate: h.cfg.URLs.CatalogueIRI(),
		}}, []courses.Scope{courses.CataloguesScope}, nil
	}
	if !q.Empty() { // searches are not kept: every query would be a cache entry
		p, _, err := load(r.Context())
		if h.pageFailed(w, r, "", err) {
			return
		}
		h.renderWith(w, r, http.StatusOK, p)
		return
	}
	h.publicPage(w, r, "catalogue", "", load)
}

// describeStored names a remote course from the stored actors, or by its
// IRI when it is not among them.
func describeStored(iri string, known map[string]federation.RemoteActor) remoteCourse {
	rc := remoteCourse{IRI: iri, Name: iri}
	ra, ok := known[iri]
	if !ok {
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
