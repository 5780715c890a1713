package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// moderationRoutes mounts the report form, the moderation queue, the
// domain blocks and the moderation log.
func (h *Handler) moderationRoutes(r chi.Router) {
	r.Get("/report", h.requireUser(h.reportForm))
	r.Post("/report", h.requireUser(h.report))
	r.Get("/moderation/reports", h.requireUser(h.reportQueue))
	r.Post("/moderation/reports/{id}", h.requireUser(h.resolveReport))
	r.Get("/admin/domains", h.requireAdmin(h.domainBlocks))
	r.Post("/admin/domains", h.requireAdmin(h.domainBlocksPost))
	r.Get("/admin/log", h.requireAdmin(h.moderationLog))
}

// reportView is a report as the queue shows it.
type reportView struct {
	courses.Report
	TargetHost  string
	Local       bool // the account reported is on this instance
	LocalCourse bool // the post's course is on this instance
	Post        *courses.Post
	// PostHTML is the post's content, sanitised when it was stored.
	PostHTML template.HTML
}

type queuePage struct {
	Reports []reportView
	State   string
	Notice  string
}

// reportQueueSize is how many reports the queue shows.
const reportQueueSize = 200

// reportQueue shows the reports the viewer may handle: all of them to
// admins, those about their courses' posts to moderators. ?state=resolved
// or ?state=all shows closed ones too.
func (h *Handler) reportQueue(w http.ResponseWriter, r *http.Request, me courses.User) {
	state := r.URL.Query().Get("state")
	switch state {
	case "", courses.ReportOpen:
		state = courses.ReportOpen
	case courses.ReportResolved:
	case "all":
		state = ""
	default:
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "state is open, resolved or all.")
		return
	}
	reports, err := h.cfg.Actions.ReportQueue(r.Context(), me, state, reportQueueSize)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("report queue: %w", err))
		return
	}
	data := queuePage{State: state, Notice: r.URL.Query().Get("done")}
	for _, rep := range reports {
		_, localCourse := h.cfg.URLs.CourseSlug(rep.CourseIRI)
		v := reportView{Report: rep, TargetHost: hostOfIRI(rep.TargetIRI), Local: h.cfg.URLs.IsLocal(rep.TargetIRI), LocalCourse: localCourse}
		if rep.PostIRI != "" {
			if p, err := h.cfg.Store.PostByIRI(r.Context(), h.cfg.Store.Pool(), rep.PostIRI); err == nil {
				v.Post, v.PostHTML = &p, template.HTML(p.Content)
			}
		}
		data.Reports = append(data.Reports, v)
	}
	h.render(w, r, http.StatusOK, "moderation", "Reports", data)
}

// resolveReport applies the remedy chosen for a report and closes it:
// 403 for someone who may not, 404 for a report that is not open.
func (h *Handler) resolveReport(w http.ResponseWriter, r *http.Request, me courses.User) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "No such report number.")
		return
	}
	rep, err := h.cfg.Actions.ResolveReport(r.Context(), me, id, r.PostForm.Get("remedy"), r.PostForm.Get("reason"))
	if err != nil {
		if errors.Is(err, outbox.ErrNotModerator) {
			h.renderError(w, r, http.StatusForbidden, "Forbidden", "Only the instance's admins and the course's moderators may handle this report.")
			return
		}
		status, msg, ok := actionError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("resolve report %d: %w", id, err))
			return
		}
		h.renderError(w, r, status, http.StatusText(status), msg)
		return
	}
	http.Redirect(w, r, "/moderation/reports?done="+url.QueryEscape(fmt.Sprintf("Report %d: %s.", rep.ID, rep.Resolution)), http.StatusSeeOther)
}

// hostOfIRI returns the host[:port] of an absolute IRI, or "".
func hostOfIRI(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return u.Host
}

func isNotFound(err error) bool { return errors.Is(err, courses.ErrNotFound) }
