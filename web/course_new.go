package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/colearn/colearn/courses"
)

// courseForm is the course metadata form, used to create a course and to
// edit one. Tags are comma-separated as typed.
type courseForm struct {
	courses.CourseDraft
	TagList  string
	Version  int
	Licences []string
	Error    string
	// ImportError is the reason an uploaded course archive was refused.
	ImportError string
}

func newCourseForm(d courses.CourseDraft) courseForm {
	return courseForm{CourseDraft: d, TagList: strings.Join(d.Tags, ", "), Licences: courses.Licences}
}

// readCourseForm reads the metadata fields of a posted course form.
func readCourseForm(f url.Values) courseForm {
	d := courses.CourseDraft{
		Slug:             f.Get("slug"),
		Title:            f.Get("title"),
		Summary:          f.Get("summary"),
		Language:         f.Get("language"),
		Licence:          f.Get("licence"),
		Tags:             strings.Split(f.Get("tags"), ","),
		ManuallyApproves: f.Get("manually_approves") != "",
		OpenDiscussion:   f.Get("open_discussion") != "",
	}
	cf := newCourseForm(d)
	cf.TagList = f.Get("tags")
	return cf
}

// newCourse shows the form that creates a course.
func (h *Handler) newCourse(w http.ResponseWriter, r *http.Request, me courses.User) {
	h.render(w, r, http.StatusOK, "course_new", "New course",
		newCourseForm(courses.CourseDraft{Language: "en", Licence: "CC-BY-SA-4.0"}))
}

// createCourse creates the course owned by the signed-in user and sends
// them to its page. Bad input, or a handle already used by a person or a
// course, re-renders the form with 422.
func (h *Handler) createCourse(w http.ResponseWriter, r *http.Request, me courses.User) {
	if err := parseCourseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	form := readCourseForm(r.PostForm)
	c, err := h.cfg.Actions.CreateCourse(r.Context(), me, form.CourseDraft)
	if err != nil {
		status, msg, ok := actionError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("create course: %w", err))
			return
		}
		form.Error = msg
		h.render(w, r, status, "course_new", "New course", form)
		return
	}
	http.Redirect(w, r, "/courses/"+url.PathEscape(c.Slug), http.StatusSeeOther)
}
