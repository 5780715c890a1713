package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/colearn/colearn/courses"
)

// postLimit is how many posts a discussion page shows.
const postLimit = 1000

// coursePage is everything the course page shows. The fields that only
// members or moderators may see are left empty for everyone else.
type coursePage struct {
	Course      courses.Course
	IRI, Handle string
	Summary     template.HTML // rendered and sanitised by courses.Content
	Syllabus    syllabusView
	Thread      threadView
	MemberCount int
	Members     []courses.Member // moderators only

	Membership  *courses.Member // the viewer's, if any
	CanPost     bool
	CanModerate bool

	// Error is the message of a refused form; the drafts keep what was
	// typed into it.
	Error                   string
	PostDraft, AnnounceText string
	ModuleTitle, ModuleBody string
	Edit                    courseForm

	FollowHandle string // the remote-follow form's input
}

// CoursePage writes the HTML page of the local course slug, or a 404 page.
// The federation handler calls it for browsers that open the course's IRI;
// it loads the session and sets the pages' security headers itself, since
// the request did not come through Routes.
func (h *Handler) CoursePage(w http.ResponseWriter, r *http.Request, slug string) {
	w.Header().Add("Vary", "Accept")
	page := func(w http.ResponseWriter, r *http.Request) {
		h.showCourse(w, r, slug, http.StatusOK, coursePage{})
	}
	if sessionLoaded(r) {
		page(w, r)
		return
	}
	securityHeaders(h.withSession(http.HandlerFunc(page))).ServeHTTP(w, r)
}

// showCourse loads the course slug and renders its page with status;
// form carries a refused form's message and drafts.
func (h *Handler) showCourse(w http.ResponseWriter, r *http.Request, slug string, status int, form coursePage) {
	if c, ok := h.findCourse(w, r, slug); ok {
		h.renderCourse(w, r, c, status, form)
	}
}

// renderCourse renders the page of c with status.
func (h *Handler) renderCourse(w http.ResponseWriter, r *http.Request, c courses.Course, status int, form coursePage) {
	data, err := h.loadCourse(r, c, form)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("course page %s: %w", c.Slug, err))
		return
	}
	h.render(w, r, status, "course", c.Title, data)
}

func (h *Handler) loadCourse(r *http.Request, c courses.Course, p coursePage) (coursePage, error) {
	ctx, q, store := r.Context(), h.cfg.Pool, h.cfg.Store
	content := store.Content()
	p.Course = c
	p.IRI = h.cfg.URLs.Course(c.Slug)
	p.Handle = h.courseHandle(c)
	p.Summary = template.HTML(content.Markdown(c.Summary))
	if p.Edit.Licences == nil {
		p.Edit = newCourseForm(c.Draft())
		p.Edit.Version = c.Version
	}
	var err error
	if p.MemberCount, err = store.MemberCount(ctx, q, c.ID); err != nil {
		return p, err
	}
	var myIRI string
	if me := viewer(r); me != nil {
		myIRI = h.cfg.URLs.User(me.Username)
		switch m, err := store.MemberOf(ctx, q, c.ID, myIRI); {
		case err == nil:
			p.Membership = &m
		case !errors.Is(err, courses.ErrNotFound):
			return p, err
		}
		if p.CanPost, err = store.CanPost(ctx, q, c, myIRI); err != nil {
			return p, err
		}
		if p.CanModerate, err = store.CanModerate(ctx, q, c.ID, myIRI); err != nil {
			return p, err
		}
	}
	if p.Syllabus, err = h.loadSyllabus(ctx, c, myIRI); err != nil {
		return p, err
	}
	p.Syllabus.Draft = moduleForm{Title: p.ModuleTitle, Body: p.ModuleBody}
	if p.CanModerate {
		if p.Members, err = store.Members(ctx, q, c.ID); err != nil {
			return p, err
		}
	}
	posts, err := store.CoursePosts(ctx, q, p.IRI, postLimit)
	if err != nil {
		return p, err
	}
	base := "/courses/" + url.PathEscape(c.Slug)
	p.Thread = threadView{Posts: h.postViews(courses.Thread(posts), myIRI)}
	if p.CanPost {
		p.Thread.PostAction = base + "/posts"
	}
	if myIRI != "" {
		p.Thread.EditAction, p.Thread.DeleteAction = base+"/posts/edit", base+"/posts/delete"
	}
	if p.CanModerate {
		p.Thread.RemoveAction = base + "/posts/remove"
	}
	return p, nil
}
