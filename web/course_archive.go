package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/colearn/colearn/courses"
)

// exportCourse serves the course as an archive (courses.WriteArchive) to
// download. Its content is public (the syllabus and its history are), so
// anyone may export it.
func (h *Handler) exportCourse(w http.ResponseWriter, r *http.Request) {
	c, ok := h.findCourseParam(w, r)
	if !ok {
		return
	}
	a, err := h.cfg.Store.BuildArchive(r.Context(), h.cfg.Pool, c, h.cfg.URLs.Course(c.Slug))
	if err != nil {
		h.serverError(w, r, fmt.Errorf("export %s: %w", c.Slug, err))
		return
	}
	var buf bytes.Buffer
	if err := courses.WriteArchive(&buf, a); err != nil {
		h.serverError(w, r, fmt.Errorf("export %s: %w", c.Slug, err))
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.colearn.tar.gz"`, c.Slug))
	w.Write(buf.Bytes())
}

// importCourse creates a course owned by the signed-in user from an
// uploaded archive. A refused archive re-renders the new-course page with
// the reason (422) and creates nothing.
func (h *Handler) importCourse(w http.ResponseWriter, r *http.Request, me courses.User) {
	r.Body = http.MaxBytesReader(w, r.Body, courses.MaxArchiveBytes+64<<10)
	file, _, err := r.FormFile("archive")
	if err != nil {
		h.importFailed(w, r, fmt.Errorf("%w: choose a course archive to upload (at most %d MB)", courses.ErrBadArchive, courses.MaxArchiveBytes>>20))
		return
	}
	defer file.Close()
	a, err := courses.ReadArchive(file)
	if err != nil {
		h.importFailed(w, r, err)
		return
	}
	c, err := h.cfg.Actions.ImportCourse(r.Context(), me, a, r.FormValue("slug"))
	if err != nil {
		h.importFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/courses/"+url.PathEscape(c.Slug), http.StatusSeeOther)
}

// copyCourse makes a new course owned by the signed-in user from this one
// (export and import in one step), under the handle given.
func (h *Handler) copyCourse(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	a, err := h.cfg.Store.BuildArchive(r.Context(), h.cfg.Pool, c, h.cfg.URLs.Course(c.Slug))
	if err == nil {
		var buf bytes.Buffer
		if err = courses.WriteArchive(&buf, a); err == nil {
			// Through the archive, so a copy obeys every rule an import does.
			a, err = courses.ReadArchive(&buf)
		}
	}
	if err != nil && !errors.Is(err, courses.ErrBadArchive) {
		h.serverError(w, r, fmt.Errorf("copy %s: %w", c.Slug, err))
		return
	}
	if err == nil {
		var copied courses.Course
		if copied, err = h.cfg.Actions.ImportCourse(r.Context(), me, a, r.PostForm.Get("slug")); err == nil {
			http.Redirect(w, r, "/courses/"+url.PathEscape(copied.Slug), http.StatusSeeOther)
			return
		}
	}
	h.importFailed(w, r, err)
}

func (h *Handler) importFailed(w http.ResponseWriter, r *http.Request, err error) {
	form := newCourseForm(courses.CourseDraft{Language: "en", Licence: "CC-BY-SA-4.0"})
	status, msg, ok := http.StatusUnprocessableEntity, "", true
	if errors.Is(err, courses.ErrBadArchive) {
		msg = "The course archive was refused: " + err.Error() + ". Nothing was imported."
	} else if status, msg, ok = actionError(err); !ok {
		h.serverError(w, r, fmt.Errorf("import: %w", err))
		return
	}
	form.ImportError = msg
	h.render(w, r, status, "course_new", "New course", form)
}

// findCourseParam loads the course named by {slug}.
func (h *Handler) findCourseParam(w http.ResponseWriter, r *http.Request) (courses.Course, bool) {
	return h.findCourse(w, r, chiParam(r, "slug"))
}
