package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
)

// moduleRoutes mounts the module forms: add (on the course), and edit,
// restore, retire, move and done (on a module). Each needs a signed-in
// user; the domain decides who may (authors; members for done).
func (h *Handler) moduleRoutes(r chi.Router) {
	r.Post("/courses/{slug}/modules", h.requireUser(h.withCourse(h.addModule)))
	for path, action := range map[string]moduleAction{
		"/edit":    h.editModule,
		"/restore": h.restoreModule,
		"/retire":  h.retireModule,
		"/move":    h.moveModule,
		"/done":    h.markDone,
	} {
		r.Post("/courses/{slug}/modules/{id}"+path, h.requireUser(h.withCourse(h.withModule(action))))
	}
	r.Get("/courses/{slug}/progress", h.requireUser(h.progressPage))
	r.Get("/courses/{slug}/export", h.exportCourse)
	r.Post("/courses/new/import", h.requireUser(h.importCourse))
	r.Post("/courses/{slug}/copy", h.requireUser(h.withCourse(h.copyCourse)))
}

// moduleAction handles a form posted to a module by a signed-in user.
type moduleAction func(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course, m courses.Module)

func (h *Handler) withModule(action moduleAction) courseAction {
	return func(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			h.renderError(w, r, http.StatusNotFound, "Not found", "This course has no such module.")
			return
		}
		m, err := h.cfg.Store.ModuleOf(r.Context(), h.cfg.Pool, c.ID, id)
		switch {
		case errors.Is(err, courses.ErrNotFound):
			h.renderError(w, r, http.StatusNotFound, "Not found", "This course has no such module.")
		case err != nil:
			h.serverError(w, r, fmt.Errorf("load module %d: %w", id, err))
		default:
			action(w, r, me, c, m)
		}
	}
}

// readModuleForm reads the module editor's fields. A malformed estimated
// time is a validation error, not a silent zero.
func readModuleForm(form url.Values) (courses.ModuleDraft, error) {
	d := courses.ModuleDraft{
		Title: form.Get("title"), Summary: form.Get("summary"), Body: form.Get("body"),
		Links: courses.ParseLinks(form.Get("links")), Attachments: courses.ParseAttachments(form.Get("attachments")),
	}
	if s := strings.TrimSpace(form.Get("minutes")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return d, &courses.ValidationError{Field: "minutes", Message: "give the estimated time as a number of minutes"}
		}
		d.EstimatedMinutes = n
	}
	return d, nil
}

// addModule appends a module to the syllabus and sends it to the members;
// only authors may (403).
func (h *Handler) addModule(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course) {
	d, err := readModuleForm(r.PostForm)
	if err == nil {
		var m courses.Module
		if m, err = h.cfg.Actions.AddModule(r.Context(), me, c, d); err == nil {
			backToCourse(w, r, c, fmt.Sprintf("module-%d", m.Number))
			return
		}
	}
	h.courseFailed(w, r, c, err, coursePage{ModuleTitle: d.Title, ModuleBody: d.Body})
}

// editModule saves the editor as a new revision. The form carries the
// revision it was made from; if the text changed since, the page comes back
// with 409, both texts and their diff, and the editor holding the
// author's text based on the current revision, ready to merge.
func (h *Handler) editModule(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course, m courses.Module) {
	base, err := strconv.Atoi(r.PostForm.Get("base"))
	if err != nil || base < 1 {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "The form does not say which revision of the module it edits.")
		return
	}
	d, err := readModuleForm(r.PostForm)
	if err == nil {
		var saved courses.Module
		if saved, err = h.cfg.Actions.EditModule(r.Context(), me, c, m.ID, base, d); err == nil {
			http.Redirect(w, r, moduleURL(c, saved, ""), http.StatusSeeOther)
			return
		}
	}
	form := formOf(d, base)
	form.Minutes, _ = strconv.Atoi(strings.TrimSpace(r.PostForm.Get("minutes")))
	h.moduleFailed(w, r, c, m, err, form)
}

// moduleFailed answers a module form the domain refused: a conflict shows
// both texts (409), bad input re-renders the editor (422), other refusals
// get the error page.
func (h *Handler) moduleFailed(w http.ResponseWriter, r *http.Request, c courses.Course, m courses.Module, err error, form moduleForm) {
	var ce *courses.ConflictError
	if errors.As(err, &ce) {
		cur, loadErr := h.cfg.Store.ModuleOf(r.Context(), h.cfg.Pool, c.ID, m.ID)
		if loadErr != nil {
			h.serverError(w, r, loadErr)
			return
		}
		mine := courses.ModuleDraft{Title: form.Title, Summary: form.Summary, Body: form.Body, EstimatedMinutes: form.Minutes,
			Links: courses.ParseLinks(form.Links), Attachments: courses.ParseAttachments(form.Attachments)}
		form.Base = cur.Revision
		h.renderModule(w, r, c, cur, http.StatusConflict, modulePage{
			Error: fmt.Sprintf("Someone saved revision %d of this module while you were editing revision %d. "+
				"Your text was not saved over theirs, and it is kept below: merge the two in the editor and save again.", ce.Current, ce.Base),
			Form: form,
			Conflict: &conflictView{Base: ce.Base, Current: ce.Current, Mine: draftText(mine), Theirs: draftText(cur.ModuleDraft),
				Diff: lineDiff(draftText(cur.ModuleDraft), draftText(mine))},
		})
		return
	}
	status, msg, ok := actionError(err)
	switch {
	case errors.Is(err, courses.ErrRetired):
		h.renderError(w, r, http.StatusConflict, "Module retired", "This module was retired; it can no longer be changed.")
	case !ok:
		h.serverError(w, r, fmt.Errorf("module %s/%d: %s: %w", c.Slug, m.ID, r.URL.Path, err))
	case status == http.StatusUnprocessableEntity:
		h.renderModule(w, r, c, m, status, modulePage{Error: msg, Form: form})
	default:
		h.renderError(w, r, status, http.StatusText(status), msg)
	}
}

// restoreModule makes an earlier revision current again, as a new revision.
func (h *Handler) restoreModule(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course, m courses.Module) {
	number, err1 := strconv.Atoi(r.PostForm.Get("revision"))
	base, err2 := strconv.Atoi(r.PostForm.Get("base"))
	if err1 != nil || err2 != nil || number < 1 || base < 1 {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "Say which revision to restore, and which revision you saw.")
		return
	}
	saved, err := h.cfg.Actions.RestoreRevision(r.Context(), me, c, m.ID, number, base)
	if err != nil {
		h.moduleFailed(w, r, c, m, err, formOf(m.ModuleDraft, m.Revision))
		return
	}
	http.Redirect(w, r, moduleURL(c, saved, "history"), http.StatusSeeOther)
}

// retireModule takes the module out of the syllabus.
func (h *Handler) retireModule(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course, m courses.Module) {
	if _, err := h.cfg.Actions.RetireModule(r.Context(), me, c, m.ID); err != nil {
		h.moduleFailed(w, r, c, m, err, formOf(m.ModuleDraft, m.Revision))
		return
	}
	backToCourse(w, r, c, "modules")
}

// moveModule moves the module one place up or down the syllabus.
func (h *Handler) moveModule(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course, m courses.Module) {
	delta := map[string]int{"up": -1, "down": 1}[r.PostForm.Get("direction")]
	if delta == 0 {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "Move a module up or down.")
		return
	}
	if err := h.cfg.Actions.MoveModule(r.Context(), me, c, m.ID, delta); err != nil {
		h.moduleFailed(w, r, c, m, err, formOf(m.ModuleDraft, m.Revision))
		return
	}
	backToCourse(w, r, c, "modules")
}

// markDone records or clears the learner's "done" on the module, then
// goes back to where the button was (the module page, or the syllabus).
func (h *Handler) markDone(w http.ResponseWriter, r *http.Request, me courses.User, c courses.Course, m courses.Module) {
	done := r.PostForm.Get("done") == "1"
	if err := h.cfg.Actions.MarkDone(r.Context(), me, c, m.ID, done); err != nil {
		if errors.Is(err, courses.ErrForbidden) {
			h.renderError(w, r, http.StatusForbidden, "Forbidden", "Only members of the course can record their progress. Enroll first.")
			return
		}
		h.moduleFailed(w, r, c, m, err, formOf(m.ModuleDraft, m.Revision))
		return
	}
	if r.PostForm.Get("back") == "course" {
		backToCourse(w, r, c, fmt.Sprintf("module-%d", m.Number))
		return
	}
	http.Redirect(w, r, moduleURL(c, m, "progress"), http.StatusSeeOther)
}

func chiParam(r *http.Request, name string) string { return chi.URLParam(r, name) }
