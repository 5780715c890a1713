package web

import (
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
)

type profileEditData struct {
	DisplayName, Summary string
	Indexable            bool
	Saved, Error         string
}

// profileForm shows the signed-in user's display name and summary for
// editing.
func (h *Handler) profileForm(w http.ResponseWriter, r *http.Request, me courses.User) {
	h.render(w, r, http.StatusOK, "profile_edit", "Your profile", profileEditData{DisplayName: me.DisplayName, Summary: me.Summary, Indexable: me.Indexable})
}

// profileSave stores the edited profile; bad input re-renders the form
// with 422 and what was typed.
func (h *Handler) profileSave(w http.ResponseWriter, r *http.Request, me courses.User) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	data := profileEditData{DisplayName: r.PostForm.Get("display_name"), Summary: r.PostForm.Get("summary"),
		Indexable: r.PostForm.Get("indexable") == "on"}
	u, err := h.cfg.Store.SetProfile(r.Context(), me.ID, data.DisplayName, data.Summary)
	if err == nil && u.Indexable != data.Indexable {
		u, err = h.cfg.Store.SetIndexable(r.Context(), me.ID, data.Indexable)
	}
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("save profile: %w", err))
			return
		}
		data.Error = msg
		h.render(w, r, status, "profile_edit", "Your profile", data)
		return
	}
	if h.cfg.ProfileChangedFunc != nil {
		h.cfg.ProfileChangedFunc(u.Username)
	}
	http.Redirect(w, r, "/@"+u.Username, http.StatusSeeOther)
}
