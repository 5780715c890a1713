package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/colearn/colearn/courses"
)

// postPageData is what a post's own page shows.
type postPageData struct {
	Post        courses.Post
	Content     template.HTML // sanitised by courses.Content when stored
	Handle      string        // @name@host of the author
	CourseTitle string
	// InDiscussion links to the post in its course's discussion.
	InDiscussion string
}

// errPostGone marks a deleted post, whose page answers 410.
var errPostGone = errors.New("post deleted")

// PostPage writes the HTML page of the post iri (one written on this
// instance, such as a discussion post or a lesson), with its link preview
// and its ActivityStreams alternate, or a 404 (410 when deleted) page. The
// federation handler calls it for browsers that open the post's IRI; it
// loads the session and sets the security headers itself.
func (h *Handler) PostPage(w http.ResponseWriter, r *http.Request, iri string) {
	page := func(w http.ResponseWriter, r *http.Request) {
		h.publicPage(w, r, "post:"+iri, "There is no such post here.", func(ctx context.Context) (page, []courses.Scope, error) {
			return h.loadPostPage(ctx, iri)
		}, "Accept")
	}
	if sessionLoaded(r) {
		page(w, r)
		return
	}
	securityHeaders(h.withSession(http.HandlerFunc(page))).ServeHTTP(w, r)
}

func (h *Handler) loadPostPage(ctx context.Context, iri string) (page, []courses.Scope, error) {
	store := h.cfg.Store
	p, err := store.PostByIRI(ctx, h.cfg.Pool, iri)
	if err != nil {
		return page{}, nil, err
	}
	if p.Deleted {
		return page{}, nil, errPostGone
	}
	scopes := []courses.Scope{courses.PostScope(p.IRI)}
	data := postPageData{Post: p, Content: template.HTML(p.Content), Handle: fullHandle(p.AuthorHandle, p.AuthorIRI),
		CourseTitle: p.CourseIRI, InDiscussion: p.CourseIRI}
	if slug, ok := h.cfg.URLs.CourseSlug(p.CourseIRI); ok {
		c, err := store.CourseBySlug(ctx, slug)
		if err != nil && !errors.Is(err, courses.ErrNotFound) {
			return page{}, nil, err
		}
		if err == nil {
			data.CourseTitle = c.Title
			data.InDiscussion = "/courses/" + c.Slug + "#post-" + strconv.FormatInt(p.Seq, 10)
			scopes = append(scopes, courses.CourseScope(c.ID))
		}
	}
	title := p.Name
	if title == "" {
		author := p.AuthorName
		if author == "" {
			author = data.Handle
		}
		title = "Post by " + author + " in " + data.CourseTitle
	}
	return page{Name: "post", Title: title, Data: data, Meta: pageMeta{
		OGType: "article", URL: p.IRI, Alternate: p.IRI,
		Description: store.Content().ExcerptHTML(p.Content, excerptLen),
	}}, scopes, nil
}
