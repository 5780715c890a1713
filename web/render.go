package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/colearn/colearn/courses"
)

// assets holds the templates and the static files. It is read-only.
//
//go:embed templates static
var assets embed.FS

// pageTemplate is one page: the layout plus the page's "content".
type pageTemplate struct{ tmpl *template.Template }

var pageNames = []string{
	"home", "signup", "signin", "profile", "profile_edit", "admin", "error",
	"catalogue", "course_new", "course", "conflict", "remote", "remote_course", "module", "module_progress",
}

func parsePages() (map[string]*pageTemplate, error) {
	pages := make(map[string]*pageTemplate, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(template.FuncMap{"add": func(a, b int) int { return a + b }}).ParseFS(assets, "templates/layout.html", "templates/parts.html", "templates/module_parts.html", "templates/"+name+".html")
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
	Me    *courses.User
	Data  any
}

// render writes page with status. It renders into a buffer first, so that a
// template error becomes a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	var buf bytes.Buffer
	v := view{Title: title, Host: h.cfg.Host, Me: viewer(r), Data: data}
	if err := h.pages[page].tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.log.Error("render page", "page", page, "err", err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
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
