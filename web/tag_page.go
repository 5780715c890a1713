package web

import (
	"context"
	"net/http"

	"github.com/colearn/colearn/courses"
)

// tagPageLimit is how many courses a tag's page lists.
const tagPageLimit = 200

type tagPageData struct {
	Tag     string
	Courses []catalogueCourse
}

// TagPage renders the page of hashtag tag (a normalized name, as the
// federation handler passes it for /tags/NAME): the local courses carrying
// it, newest first. A tag nothing carries yet shows an empty list.
func (h *Handler) TagPage(w http.ResponseWriter, r *http.Request, tag string) {
	page := func(w http.ResponseWriter, r *http.Request) {
		h.publicPage(w, r, "tag:"+tag, "There is no such tag here.", func(ctx context.Context) (page, []courses.Scope, error) {
			list, err := h.cfg.Store.CoursesTagged(ctx, h.cfg.Pool, tag, tagPageLimit)
			if err != nil {
				return page{}, nil, err
			}
			data := tagPageData{Tag: tag}
			for _, c := range list {
				data.Courses = append(data.Courses, catalogueCourse{
					Slug: c.Slug, Title: c.Title, Handle: h.courseHandle(c),
					Excerpt: h.cfg.Store.Content().Excerpt(c.Summary, excerptLen),
				})
			}
			return page{Name: "tag", Title: "#" + tag, Data: data, Meta: pageMeta{
				OGType: "website", URL: h.cfg.URLs.Base() + "/tags/" + tag, Description: "Courses tagged #" + tag + " on " + h.cfg.Host,
			}}, []courses.Scope{courses.CataloguesScope}, nil
		}, "Accept")
	}
	if sessionLoaded(r) {
		page(w, r)
		return
	}
	securityHeaders(h.withSession(http.HandlerFunc(page))).ServeHTTP(w, r)
}
