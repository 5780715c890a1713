package web

import (
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
)

// moderationLogSize is how many entries the log page shows.
const moderationLogSize = 500

// moderationLog shows the latest moderation actions: who did what to what,
// when and why.
func (h *Handler) moderationLog(w http.ResponseWriter, r *http.Request) {
	entries, err := h.cfg.Store.ModerationLog(r.Context(), h.cfg.Store.Pool(), moderationLogSize)
	if err != nil {
		h.serverError(w, r, fmt.Errorf("moderation log: %w", err))
		return
	}
	h.render(w, r, http.StatusOK, "admin_log", "Moderation log", struct{ Entries []courses.ModAction }{entries})
}
