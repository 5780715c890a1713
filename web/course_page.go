package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/colearn/colearn/courses"
)

// rosterLimit is how many members the roster shows moderators, pending
// ones first.
const rosterLimit = 500

// postPageSize is how many posts a page of a course's discussion shows,
// newest first (a local course, a remote one joined, a co-hosted one).
const postPageSize = 100

// coursePage is everything the course page shows. The fields that only
// members or moderators may see are left empty for everyone else.
type coursePage struct {
	Course       courses.Course
	IRI, Handle  string
	Summary      template.HTML // rendered and sanitised by courses.Content
	Syllabus     syllabusView
	Achievements []achievementView
	Thread       threadView
	OlderPosts   string // link to the next page of older posts, if any
	MemberCount  int
	Members      []courses.Member // moderators only, at most rosterLimit
	RosterCut    bool             // the roster has more than Members

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

	Cohosts []cohostView // the instances co-hosting the course (cohost_course.go)
}

// CoursePage writes the HTML page of the local course slug, or a 404 page.
// The federation handler calls it for browsers that open the course's IRI;
// it loads the session and sets the pages' security headers itself, since
// the request did not come through Routes. ?before=N shows the discussion's
// older posts, newest first, from post N on.
func (h *Handler) CoursePage(w http.ResponseWriter, r *http.Request, slug string) {
	page := func(w http.ResponseWriter, r *http.Request) {
		before, err := beforeParam(r)
		if err != nil {
			h.renderError(w, r, http.StatusBadRequest, "Bad request", err.Error())
			return
		}
		key := "course:" + strings.ToLower(slug) + "?before=" + strconv.FormatInt(before, 10)
		h.publicPage(w, r, key, "There is no course called "+slug+" here.", func(ctx context.Context) (page, []courses.Scope, error) {
			c, err := h.cfg.Store.CourseBySlug(ctx, slug)
			if err != nil {
				return page{}, nil, err
			}
			data, err := h.loadCourse(ctx, r, c, coursePage{}, before)
			return h.coursePageOf(c, data), []courses.Scope{courses.CourseScope(c.ID)}, err
		}, "Accept")
	}
	if sessionLoaded(r) {
		page(w, r)
		return
	}
	securityHeaders(h.withSession(http.HandlerFunc(page))).ServeHTTP(w, r)
}

// beforeParam reads the discussion page asked for (?before=N; 0 for the
// newest posts).
func beforeParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, errors.New("before= must be a post number")
	}
	return n, nil
}

// olderPostsLink links to the page of a discussion at page (a path, with
// or without a query) that goes on from post older; "" when older is 0
// (the last page is shown).
func olderPostsLink(page string, older int64) string {
	if older == 0 {
		return ""
	}
	sep := "?"
	if strings.Contains(page, "?") {
		sep = "&"
	}
	return page + sep + "before=" + strconv.FormatInt(older, 10) + "#discussion"
}

// coursePageOf is the page of course c with its link preview.
func (h *Handler) coursePageOf(c courses.Course, data coursePage) page {
	return page{Name: "course", Title: c.Title, Data: data, Meta: pageMeta{
		OGType: "website", URL: data.IRI, Alternate: data.IRI,
		Description: h.cfg.Store.Content().Excerpt(c.Summary, excerptLen),
	}}
}

// showCourse loads the course slug and renders its page with status;
// form carries a refused form's message and drafts.
func (h *Handler) showCourse(w http.ResponseWriter, r *http.Request, slug string, status int, form coursePage) {
	if c, ok := h.findCourse(w, r, slug); ok {
		h.renderCourse(w, r, c, status, form)
	}
}

// renderCourse renders the page of c with status for the signed-in viewer.
func (h *Handler) renderCourse(w http.ResponseWriter, r *http.Request, c courses.Course, status int, form coursePage) {
	data, err := h.loadCourse(r.Context(), r, c, form, 0)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("course page %s: %w", c.Slug, err))
		return
	}
	h.renderWith(w, r, status, h.coursePageOf(c, data))
}

// loadCourse gathers what the page of c shows r's viewer, with the
// discussion's page of posts before post number before (0: the newest).
// Its queries are bounded whatever the number of members and posts.
func (h *Handler) loadCourse(ctx context.Context, r *http.Request, c courses.Course, p coursePage, before int64) (coursePage, error) {
	q, store := h.cfg.Pool, h.cfg.Store
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
	if p.Achievements, err = h.achievementViews(ctx, c); err != nil {
		return p, err
	}
	if p.MemberCount, err = store.MemberCount(ctx, q, c.ID); err != nil {
		return p, err
	}
	if p.Cohosts, err = h.courseCohosts(ctx, c); err != nil {
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
		if p.Members, err = store.Roster(ctx, q, c.ID, rosterLimit); err != nil {
			return p, err
		}
		p.RosterCut = len(p.Members) == rosterLimit
	}
	posts, older, err := store.RecentPosts(ctx, q, p.IRI, before, postPageSize)
	if err != nil {
		return p, err
	}
	base := "/courses/" + url.PathEscape(c.Slug)
	p.OlderPosts = olderPostsLink(base, older)
	p.Thread = threadView{Posts: h.postViews(courses.ThreadNewestFirst(posts), myIRI)}
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
