package web

import (
	"fmt"
	"html/template"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// reportPage is the report form and, once sent, its confirmation.
type reportPage struct {
	PostIRI, AccountIRI string
	Post                *courses.Post // the post reported, when it is one
	PostHTML            template.HTML // its content, sanitised when it was stored
	Comment             string
	Error               string
	Sent                *courses.Report
	ForwardedTo         string // the host a Flag went to
}

// reportForm shows the form to report ?post=IRI, ?account=IRI or the
// local ?user=NAME.
func (h *Handler) reportForm(w http.ResponseWriter, r *http.Request, me courses.User) {
	data := reportPage{PostIRI: r.URL.Query().Get("post"), AccountIRI: r.URL.Query().Get("account")}
	if name := r.URL.Query().Get("user"); name != "" && data.AccountIRI == "" { // a local profile's link
		data.AccountIRI = h.cfg.URLs.User(name)
	}
	if data.PostIRI == "" && data.AccountIRI == "" {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "Say which post or account you report.")
		return
	}
	if !h.loadReported(w, r, &data) {
		return
	}
	h.render(w, r, http.StatusOK, "report", "Report", data)
}

// loadReported fills in the reported post, answering 404 when it is
// unknown or deleted.
func (h *Handler) loadReported(w http.ResponseWriter, r *http.Request, data *reportPage) bool {
	if data.PostIRI == "" {
		return true
	}
	p, err := h.cfg.Store.PostByIRI(r.Context(), h.cfg.Store.Pool(), data.PostIRI)
	if err == nil && !p.Deleted {
		data.Post, data.PostHTML = &p, template.HTML(p.Content)
		return true
	}
	if err == nil || isNotFound(err) {
		h.renderError(w, r, http.StatusNotFound, "Not found", "There is no such post here (any more).")
		return false
	}
	h.serverError(w, r, fmt.Errorf("report form: %w", err))
	return false
}

// report files the report: 422 with the form again for a bad comment, 404
// for something unknown.
func (h *Handler) report(w http.ResponseWriter, r *http.Request, me courses.User) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	data := reportPage{PostIRI: r.PostForm.Get("post"), AccountIRI: r.PostForm.Get("account"), Comment: r.PostForm.Get("comment")}
	if data.PostIRI != "" {
		data.AccountIRI = ""
	}
	rep, err := h.cfg.Actions.Report(r.Context(), me, outbox.ReportTarget{PostIRI: data.PostIRI, AccountIRI: data.AccountIRI}, data.Comment)
	if err != nil {
		status, msg, ok := actionError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("report: %w", err))
			return
		}
		if status != http.StatusUnprocessableEntity {
			h.renderError(w, r, status, http.StatusText(status), msg)
			return
		}
		if !h.loadReported(w, r, &data) {
			return
		}
		data.Error = msg
		h.render(w, r, status, "report", "Report", data)
		return
	}
	data.Sent = &rep
	if rep.ActivityID != "" {
		data.ForwardedTo = hostOfIRI(rep.PostIRI)
		if data.ForwardedTo == "" || rep.PostIRI == "" {
			data.ForwardedTo = hostOfIRI(rep.TargetIRI)
		}
	}
	h.render(w, r, http.StatusOK, "report", "Report sent", data)
}
