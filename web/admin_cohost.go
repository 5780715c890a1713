package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// adminCohostLimit is how many co-hosted courses the admin page lists.
const adminCohostLimit = 500

// browsedCourse is a course of another instance's catalogue; its summary
// was sanitised when it was read (outbox.BrowseCatalogue).
type browsedCourse struct {
	outbox.RemoteCatalogueEntry
	SummaryHTML template.HTML
}

type adminCohostPage struct {
	Cohosted []courses.CohostedCourse
	Course   string // the add form's input
	Browse   string // the server whose catalogue is shown
	Found    []browsedCourse
	Browsed  bool
	Error    string
	Notice   string
}

// adminCohost lists the co-hosted courses with the add form, and with
// ?browse=HOST another instance's published catalogue, each course with a
// co-host button.
func (h *Handler) adminCohost(w http.ResponseWriter, r *http.Request) {
	data := adminCohostPage{Browse: r.URL.Query().Get("browse")}
	status := http.StatusOK
	if data.Browse != "" {
		found, _, err := h.cfg.Actions.BrowseCatalogue(r.Context(), data.Browse)
		if err != nil {
			var msg string
			var ok bool
			if status, msg, ok = actionError(err); !ok {
				status, msg = http.StatusBadGateway, "Could not read the catalogue of "+data.Browse+"."
				h.log.WarnContext(r.Context(), "browse catalogue", "where", data.Browse, "err", err)
			}
			data.Error = msg
		}
		for _, e := range found {
			data.Found = append(data.Found, browsedCourse{RemoteCatalogueEntry: e, SummaryHTML: template.HTML(e.Summary)})
		}
		data.Browsed = err == nil
	}
	h.renderCohostAdmin(w, r, status, data)
}

// adminCohostPost co-hosts (action=add, course=HANDLE_OR_URL), stops
// co-hosting (action=remove) or refetches (action=refresh) a course.
func (h *Handler) adminCohostPost(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	ctx, me := r.Context(), viewer(r)
	data := adminCohostPage{Course: r.PostForm.Get("course"), Browse: r.PostForm.Get("browse")}
	var err error
	switch r.PostForm.Get("action") {
	case "add":
		var c courses.CohostedCourse
		if c, err = h.cfg.Actions.Cohost(ctx, me.Username, data.Course); err == nil {
			data = adminCohostPage{Notice: "Co-hosting " + c.Name + "; the course's server is asked to accept."}
		}
	case "remove":
		var c courses.CohostedCourse
		if c, err = h.cfg.Actions.Uncohost(ctx, data.Course); err == nil {
			data = adminCohostPage{Notice: "Stopped co-hosting " + c.Name + "."}
		}
	case "refresh":
		if err = h.cfg.Actions.RefreshCohosted(ctx, data.Course); err == nil {
			data = adminCohostPage{Notice: "Refreshed the mirror of " + data.Course + "."}
		}
	default:
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "Unknown action.")
		return
	}
	if err != nil {
		status, msg, ok := actionError(err)
		switch {
		case errors.Is(err, courses.ErrAlreadyCohosted):
			status, msg = http.StatusConflict, "That course is already co-hosted here."
		case !ok:
			status, msg = http.StatusBadGateway, "The course's server could not be reached: "+err.Error()
		}
		data.Error = msg
		h.renderCohostAdmin(w, r, status, data)
		return
	}
	http.Redirect(w, r, "/admin/cohost", http.StatusSeeOther)
}

func (h *Handler) renderCohostAdmin(w http.ResponseWriter, r *http.Request, status int, data adminCohostPage) {
	list, err := h.cfg.Store.CohostedCourses(context.WithoutCancel(r.Context()), h.cfg.Pool, adminCohostLimit)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("co-hosted courses: %w", err))
		return
	}
	data.Cohosted = list
	h.render(w, r, status, "admin_cohost", "Co-hosted courses", data)
}
