package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// assets holds the templates and the static files. It is read-only.
//
//go:embed templates static
var assets embed.FS

// pageTemplate is one page: the layout plus the page's "content".
type pageTemplate struct{ tmpl *template.Template }

var pageNames = []string{
	"home", "signup", "signin", "profile", "profile_edit", "admin", "error",
	"catalogue", "course_new", "course", "conflict", "remote", "remote_course", "post", "module", "module_progress",
	"report", "moderation", "admin_domains", "admin_log",
	"badges", "credential", "verify", "achievement", "tag",
	"course_coauthors", "invitations", "remote_syllabus", "remote_module",
	"cohosted", "cohosted_module", "admin_cohost", // co-hosting (cohost.go)
}

func parsePages() (map[string]*pageTemplate, error) {
	pages := make(map[string]*pageTemplate, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(template.FuncMap{"add": func(a, b int) int { return a + b }, "trimHash": trimHash}).ParseFS(assets, "templates/layout.html", "templates/parts.html", "templates/post_rich.html", "templates/module_parts.html", "templates/badge_parts.html", "templates/remote_syllabus_parts.html", "templates/cohost_parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		pages[name] = &pageTemplate{t}
	}
	return pages, nil
}

// view is what every page template receives.
type view struct {
	Title string
	Host  string
	// Site is the instance's name (its host when the admin gave none),
	// shown in every header; SiteDescription its short description.
	Site, SiteDescription string
	Me                    *courses.User
	// Invitations counts the signed-in user's unanswered invitations
	// from courses on other servers; the header links to them.
	Invitations int
	Data        any
	Meta        pageMeta
}

// pageMeta is what a page tells link previews and fediverse searches: its
// OpenGraph card and the ActivityStreams document it is the page of. The
// template escapes every field (they are plain text and URLs).
type pageMeta struct {
	// OGType is og:type ("website", "article", "profile"); no card when "".
	OGType, Description, URL, Image string
	// Alternate is the IRI of the page's actor or object, linked as
	// <link rel="alternate" type="application/activity+json">.
	Alternate string
}

// page is one page to render: which template, its title, its data and its
// metadata.
type page struct {
	Name, Title string
	Data        any
	Meta        pageMeta
}

// identity returns the instance's identity, from the document cache until
// an admin changes it.
func (h *Handler) identity(ctx context.Context) (courses.Identity, error) {
	d, err := h.cfg.Cache.Get(ctx, "identity", func(ctx context.Context) (federation.Doc, []courses.Scope, error) {
		id, err := h.cfg.Store.Identity(ctx)
		if err != nil {
			return federation.Doc{}, nil, err
		}
		body, err := json.Marshal(id)
		return federation.Doc{Body: body}, []courses.Scope{courses.SiteScope}, err
	})
	if err != nil {
		return courses.Identity{}, err
	}
	var id courses.Identity
	err = json.Unmarshal(d.Body, &id)
	return id, err
}

// renderPage executes p for r's viewer into a complete HTML document.
func (h *Handler) renderPage(r *http.Request, p page) ([]byte, error) {
	id, err := h.identity(r.Context())
	if err != nil {
		return nil, fmt.Errorf("render page %s: %w", p.Name, err)
	}
	var buf bytes.Buffer
	invitations, err := h.pendingInvitations(r)
	if err != nil {
		return nil, fmt.Errorf("render page %s: %w", p.Name, err)
	}
	v := view{Invitations: invitations, Title: p.Title, Host: h.cfg.Host, Site: id.SiteName(h.cfg.Host), SiteDescription: id.Description,
		Me: viewer(r), Data: p.Data, Meta: p.Meta}
	if err := h.pages[p.Name].tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		return nil, fmt.Errorf("render page %s: %w", p.Name, err)
	}
	return buf.Bytes(), nil
}

// render writes page with status. It renders into a buffer first, so that a
// template error becomes a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	h.renderWith(w, r, status, page{Name: name, Title: title, Data: data})
}

// renderWith is render with the page's metadata. What it writes depends on
// the session, so no shared cache may keep it.
func (h *Handler) renderWith(w http.ResponseWriter, r *http.Request, status int, p page) {
	body, err := h.renderPage(r, p)
	if err != nil {
		h.log.Error("render page", "page", p.Name, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// renderError writes the error page with a title and a message for people.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	h.render(w, r, status, "error", title, message)
}

// serverError logs err and answers 500 without details.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	h.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The server could not handle this request. Please try again later.")
}
