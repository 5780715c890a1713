package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/internal/plaintext"
)

// maxFormBytes caps account form bodies; the largest is a profile summary.
// maxCourseFormBytes caps the course forms, whose largest field is a lesson
// of up to courses.MaxPostLen bytes.
const (
	maxFormBytes       = 64 << 10
	maxCourseFormBytes = 2*courses.MaxPostLen + 16<<10
)

// parseForm reads a POST form of at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	return parseFormMax(w, r, maxFormBytes)
}

// parseCourseForm reads a course form of at most maxCourseFormBytes.
func parseCourseForm(w http.ResponseWriter, r *http.Request) error {
	return parseFormMax(w, r, maxCourseFormBytes)
}

func parseFormMax(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("parse form: %w", err)
	}
	return plaintext.CheckValues(r.Form)
}

// formProblem is the message for a form parseFormMax refused.
func formProblem(err error) string {
	return "The form could not be read: " + err.Error() + "."
}

// localPath returns next if it is a path on this site, else "/", so that a
// sign-in link cannot redirect elsewhere.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// returnPath is the page to come back to after signing in: the page itself
// for a GET, the course page for a course form, the remote-course page for
// a remote-course form.
func returnPath(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	if slug := chi.URLParam(r, "slug"); slug != "" {
		return "/courses/" + url.PathEscape(slug)
	}
	if strings.HasPrefix(r.URL.Path, "/remote") {
		return "/remote"
	}
	return "/courses"
}

// hasText reports whether s holds more than white space.
func hasText(s string) bool { return strings.TrimSpace(s) != "" }
