package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

// remoteEditLimit is how many of the user's changes to one remote course
// its syllabus page lists.
const remoteEditLimit = 50

// remoteSyllabusRoutes mounts the co-author's pages of a course on another
// server: its syllabus as the course serves it (/remote/syllabus?iri=), a
// module with its editor (/remote/syllabus/module?iri=&module=), the add
// and edit forms, and a remote moderator's removal of a post. The changes
// go out through the same outbox action as colearn module add and edit.
func (h *Handler) remoteSyllabusRoutes(r chi.Router) {
	r.Get("/remote/syllabus", h.requireUser(h.remoteSyllabusPage))
	r.Get("/remote/syllabus/module", h.requireUser(h.remoteModulePage))
	r.Post("/remote/syllabus/add", h.requireUser(h.remoteAddModule))
	r.Post("/remote/syllabus/edit", h.requireUser(h.remoteEditModule))
	r.Post("/remote/posts/remove", h.requireUser(h.remoteRemovePost))
}

// remoteModuleView is a module of a remote course as its pages show it.
type remoteModuleView struct {
	outbox.RemoteModule
	Body    template.HTML // the Markdown source, rendered and sanitised here
	Path    string        // its page on this instance
	History string        // its history, on the course's server
}

// remoteEditView is one change the user sent, with the course's answer;
// a change refused for a conflict carries both texts and the editor to
// merge them in, based on the revision the course named.
type remoteEditView struct {
	courses.RemoteEdit
	Conflict *conflictView
	Form     moduleForm
}

// remoteSyllabusData is the syllabus page and the module page of a
// remote course.
type remoteSyllabusData struct {
	CourseIRI, CourseName, Handle string
	Role                          string // the user's grant, "" for none
	Modules                       []remoteModuleView
	Module                        *remoteModuleView // the module page's
	Edits                         []remoteEditView
	Conflict                      *remoteEditView // the module page's latest refused edit
	Form                          moduleForm      // the module page's editor
	Draft                         moduleForm      // a new module's
	Error                         string
}

func remoteSyllabusPath(courseIRI string) string {
	return "/remote/syllabus?iri=" + url.QueryEscape(courseIRI)
}

func remoteModulePath(courseIRI, moduleIRI string) string {
	return "/remote/syllabus/module?iri=" + url.QueryEscape(courseIRI) + "&module=" + url.QueryEscape(moduleIRI)
}

// remoteSyllabus loads what both pages show: the course, the user's grant
// and their changes to it. ok is false when it answered the request itself.
func (h *Handler) remoteSyllabus(w http.ResponseWriter, r *http.Request, me courses.User, iri string, data *remoteSyllabusData) (federation.RemoteActor, []outbox.RemoteModule, bool) {
	ctx := r.Context()
	ra, mods, err := h.cfg.Actions.RemoteSyllabus(ctx, iri)
	if err != nil {
		var ve *courses.ValidationError
		switch {
		case errors.As(err, &ve):
			h.renderError(w, r, http.StatusUnprocessableEntity, "Not a course", ve.Message+".")
		case errors.Is(err, outbox.ErrSyllabusTooLong):
			h.renderError(w, r, http.StatusBadGateway, "Syllabus too long",
				fmt.Sprintf("The course lists more than %d modules, more than this server reads from another.", outbox.MaxRemoteModules))
		case errors.Is(err, federation.ErrNotFound), errors.Is(err, federation.ErrGone):
			h.renderError(w, r, http.StatusNotFound, "Not found", "There is no such course on that server.")
		default:
			h.log.WarnContext(ctx, "remote syllabus", "course", iri, "err", err)
			h.renderError(w, r, http.StatusBadGateway, "Course unreachable",
				"The course's server could not be reached, or did not serve its syllabus. Try again later.")
		}
		return ra, nil, false
	}
	data.CourseIRI, data.CourseName, data.Handle = ra.IRI, ra.DisplayName(), ra.Handle()
	switch g, err := h.cfg.Store.GrantIn(ctx, h.cfg.Pool, me.ID, ra.IRI); {
	case err == nil:
		data.Role = g.Role
	case !errors.Is(err, courses.ErrNotFound):
		h.serverError(w, r, fmt.Errorf("remote syllabus: %w", err))
		return ra, nil, false
	}
	edits, err := h.cfg.Store.RemoteEditsIn(ctx, h.cfg.Pool, me.ID, ra.IRI, remoteEditLimit)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("remote syllabus: %w", err))
		return ra, nil, false
	}
	for _, e := range edits {
		data.Edits = append(data.Edits, editView(e, e.ResultRevision, e.CurrentTitle, e.CurrentBody))
	}
	for _, m := range mods {
		data.Modules = append(data.Modules, h.remoteModuleView(ra.IRI, m))
	}
	return ra, mods, true
}

func (h *Handler) remoteModuleView(courseIRI string, m outbox.RemoteModule) remoteModuleView {
	return remoteModuleView{RemoteModule: m, Body: template.HTML(h.cfg.Store.Content().Markdown(m.Body)),
		Path: remoteModulePath(courseIRI, m.IRI), History: m.IRI + "#history"}
}

// editView is e with, for a change refused for a conflict, both texts
// (theirs: the course's revision current, titled currentTitle) and the
// editor holding the author's text based on revision current.
func editView(e courses.RemoteEdit, current int, currentTitle, currentBody string) remoteEditView {
	v := remoteEditView{RemoteEdit: e}
	if e.State == "refused" && e.Kind == "Update" && currentTitle != "" {
		mine, theirs := titledText(e.Title, e.Body), titledText(currentTitle, currentBody)
		v.Conflict = &conflictView{Base: e.Base, Current: current, Mine: mine, Theirs: theirs, Diff: lineDiff(theirs, mine)}
		v.Form = moduleForm{Title: e.Title, Summary: e.Summary, Body: e.Body, Base: current}
	}
	return v
}

func titledText(title, body string) string { return "Title: " + title + "\n\n" + body }

// remoteSyllabusPage shows a remote course's syllabus, fetched from the
// course, with the add form and edit links for a user holding a grant,
// and the changes they sent with the course's answers.
func (h *Handler) remoteSyllabusPage(w http.ResponseWriter, r *http.Request, me courses.User) {
	h.showRemoteSyllabus(w, r, me, r.URL.Query().Get("iri"), http.StatusOK, remoteSyllabusData{})
}

func (h *Handler) showRemoteSyllabus(w http.ResponseWriter, r *http.Request, me courses.User, iri string, status int, data remoteSyllabusData) {
	if ra, _, ok := h.remoteSyllabus(w, r, me, iri, &data); ok {
		h.render(w, r, status, "remote_syllabus", "Syllabus of "+ra.DisplayName(), data)
	}
}

// remoteModulePage shows one module of a remote course, fetched from the
// course, with the editor prefilled with its current text and revision.
// When the user's latest change of it was refused for a conflict, both
// texts are shown and the editor holds the user's text, based on the
// current revision, to merge and send again.
func (h *Handler) remoteModulePage(w http.ResponseWriter, r *http.Request, me courses.User) {
	q := r.URL.Query()
	h.showRemoteModule(w, r, me, q.Get("iri"), q.Get("module"), http.StatusOK, remoteSyllabusData{})
}

func (h *Handler) showRemoteModule(w http.ResponseWriter, r *http.Request, me courses.User, iri, moduleIRI string, status int, data remoteSyllabusData) {
	ra, mods, ok := h.remoteSyllabus(w, r, me, iri, &data)
	if !ok {
		return
	}
	i := -1
	for j, m := range mods {
		if m.IRI == moduleIRI {
			i = j
		}
	}
	if i < 0 {
		h.renderError(w, r, http.StatusNotFound, "Not found", "The course's syllabus has no such module.")
		return
	}
	m := mods[i]
	view := h.remoteModuleView(ra.IRI, m)
	data.Module = &view
	if data.Form.Base == 0 {
		data.Form = moduleForm{Title: m.Title, Summary: h.ownSummary(m), Body: m.Body, Base: m.Revision}
	}
	for _, e := range data.Edits {
		if e.ModuleIRI != m.IRI {
			continue
		}
		// The latest change of this module decides; a conflict is shown
		// against the text the course serves now.
		if e.State == "refused" && e.Conflict != nil && status == http.StatusOK {
			v := editView(e.RemoteEdit, m.Revision, m.Title, m.Body)
			data.Conflict, data.Form = &v, v.Form
		}
		break
	}
	h.render(w, r, status, "remote_module", m.Title, data)
}

// ownSummary is the summary the module's authors gave, "" when the course
// sent its own excerpt of the body instead (an edit must not turn that
// excerpt into the authors' summary).
func (h *Handler) ownSummary(m outbox.RemoteModule) string {
	if m.Summary == h.cfg.Store.Content().Excerpt(m.Body, federation.SummaryExcerpt) {
		return ""
	}
	return m.Summary
}

// remoteAddModule sends a new module to a remote course; the course
// answers later, and the syllabus page shows the answer.
func (h *Handler) remoteAddModule(w http.ResponseWriter, r *http.Request, me courses.User) {
	iri, ok := h.remoteCourseForm(w, r)
	if !ok {
		return
	}
	d := courses.ModuleDraft{Title: strings.TrimSpace(r.PostForm.Get("title")), Summary: r.PostForm.Get("summary"), Body: r.PostForm.Get("body")}
	if _, err := h.cfg.Actions.ProposeModule(r.Context(), me, iri, "Create", "", 0, d); err != nil {
		h.remoteSyllabusFailed(w, r, me, iri, "", err, remoteSyllabusData{Draft: moduleForm{Title: d.Title, Summary: d.Summary, Body: d.Body}})
		return
	}
	http.Redirect(w, r, remoteSyllabusPath(iri)+"#changes", http.StatusSeeOther)
}

// remoteEditModule sends an edit of a module of a remote course, based on
// the revision the form was made from.
func (h *Handler) remoteEditModule(w http.ResponseWriter, r *http.Request, me courses.User) {
	iri, ok := h.remoteCourseForm(w, r)
	if !ok {
		return
	}
	moduleIRI := r.PostForm.Get("module")
	base, err := strconv.Atoi(r.PostForm.Get("base"))
	if err != nil || base < 1 || !federation.SameOrigin(moduleIRI, iri) {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "The form does not say which module, and which revision of it, it edits.")
		return
	}
	d := courses.ModuleDraft{Title: strings.TrimSpace(r.PostForm.Get("title")), Summary: r.PostForm.Get("summary"), Body: r.PostForm.Get("body")}
	if _, err := h.cfg.Actions.ProposeModule(r.Context(), me, iri, "Update", moduleIRI, base, d); err != nil {
		h.remoteSyllabusFailed(w, r, me, iri, moduleIRI, err, remoteSyllabusData{Form: moduleForm{Title: d.Title, Summary: d.Summary, Body: d.Body, Base: base}})
		return
	}
	http.Redirect(w, r, remoteSyllabusPath(iri)+"#changes", http.StatusSeeOther)
}

// remoteSyllabusFailed answers a refused form: bad input re-renders the
// page with 422 and what was typed, anything else is a server error.
func (h *Handler) remoteSyllabusFailed(w http.ResponseWriter, r *http.Request, me courses.User, iri, moduleIRI string, err error, data remoteSyllabusData) {
	status, msg, ok := actionError(err)
	switch {
	case !ok:
		h.serverError(w, r, fmt.Errorf("remote syllabus %s: %s: %w", iri, r.URL.Path, err))
	case status != http.StatusUnprocessableEntity:
		h.renderError(w, r, status, http.StatusText(status), msg)
	case moduleIRI != "":
		data.Error = msg
		h.showRemoteModule(w, r, me, iri, moduleIRI, status, data)
	default:
		data.Error = msg
		h.showRemoteSyllabus(w, r, me, iri, status, data)
	}
}

// remoteRemovePost asks a remote course, as a moderator of it by a grant,
// to take a post out of its discussion; the course decides and, if it
// agrees, sends the Delete that removes the copy here.
func (h *Handler) remoteRemovePost(w http.ResponseWriter, r *http.Request, me courses.User) {
	iri, ok := h.remoteCourseForm(w, r)
	if !ok {
		return
	}
	if g, err := h.cfg.Store.GrantIn(r.Context(), h.cfg.Pool, me.ID, iri); err != nil || g.Role != courses.RoleModerator {
		h.renderError(w, r, http.StatusForbidden, "Forbidden", "Only the course's moderators may remove posts.")
		return
	}
	if err := h.cfg.Actions.RemoveRemotePost(r.Context(), me, iri, r.PostForm.Get("iri")); err != nil {
		h.remoteFailed(w, r, me, iri, err, remoteCourseData{})
		return
	}
	http.Redirect(w, r, remoteCoursePath(iri, "discussion"), http.StatusSeeOther)
}
