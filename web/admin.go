package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/colearn/colearn/courses"
)

type adminData struct {
	Mode              string
	Identity          courses.Identity
	Invite, InviteURL string
	Saved, Error      string
}

// adminSettings shows the registration mode and the invite button.
func (h *Handler) adminSettings(w http.ResponseWriter, r *http.Request) {
	h.renderAdmin(w, r, http.StatusOK, adminData{})
}

// adminSettingsPost handles the settings forms: action=registrations sets
// the mode, action=identity sets the instance's name, description,
// contact and rules, action=invite creates an invite and shows its code.
func (h *Handler) adminSettingsPost(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	var data adminData
	switch r.PostForm.Get("action") {
	case "registrations":
		err := h.cfg.Store.SetRegistrations(r.Context(), courses.RegistrationMode(r.PostForm.Get("mode")))
		if err != nil {
			status, msg, ok := formError(err)
			if !ok {
				h.serverError(w, r, fmt.Errorf("admin settings: %w", err))
				return
			}
			data.Error = msg
			h.renderAdmin(w, r, status, data)
			return
		}
		data.Saved = "Saved."
	case "identity":
		id := courses.Identity{Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description"),
			Contact: r.PostForm.Get("contact"), Rules: r.PostForm.Get("rules")}
		if _, err := h.cfg.Store.SetIdentity(r.Context(), id); err != nil {
			status, msg, ok := formError(err)
			if !ok {
				h.serverError(w, r, fmt.Errorf("admin settings: %w", err))
				return
			}
			data.Error = msg
			data.Identity = id // keep what was typed
			h.renderAdmin(w, r, status, data)
			return
		}
		data.Saved = "Saved."
	case "invite":
		code, err := h.cfg.Store.CreateInvite(r.Context(), viewer(r).ID)
		if err != nil {
			h.serverError(w, r, fmt.Errorf("admin settings: %w", err))
			return
		}
		data.Invite = code
		data.InviteURL = h.scheme() + "://" + h.cfg.Host + "/signup?invite=" + url.QueryEscape(code)
	default:
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "Unknown action.")
		return
	}
	h.renderAdmin(w, r, http.StatusOK, data)
}

func (h *Handler) renderAdmin(w http.ResponseWriter, r *http.Request, status int, data adminData) {
	mode, err := h.cfg.Store.Registrations(r.Context())
	if err != nil {
		h.serverError(w, r, fmt.Errorf("admin settings: %w", err))
		return
	}
	data.Mode = string(mode)
	if data.Error == "" {
		if data.Identity, err = h.cfg.Store.Identity(r.Context()); err != nil {
			h.serverError(w, r, fmt.Errorf("admin settings: %w", err))
			return
		}
	}
	h.render(w, r, status, "admin", "Settings", data)
}

func (h *Handler) scheme() string {
	if h.cfg.Secure {
		return "https"
	}
	return "http"
}
