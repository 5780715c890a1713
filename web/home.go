package web

import (
	"fmt"
	"net/http"
)

type homeData struct{ Mode string }

// home greets the signed-in user, or offers sign-in and (unless closed)
// sign-up.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	mode, err := h.cfg.Store.Registrations(r.Context())
	if err != nil {
		h.serverError(w, r, fmt.Errorf("home: %w", err))
		return
	}
	h.render(w, r, http.StatusOK, "home", "Home", homeData{Mode: string(mode)})
}
