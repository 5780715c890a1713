package web

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// badgeRoutes mounts the badge pages and forms that need the session:
// a course's badges page and its forms, the verification form, and the
// backpack pages of a profile.
func (h *Handler) badgeRoutes(r chi.Router) {
	r.Get("/courses/{slug}/badges", h.courseBadges)
	for path, action := range map[string]courseAction{
		"/achievements":    h.createAchievement,
		"/badges/award":    h.awardBadge,
		"/badges/revoke":   h.revokeBadge,
		"/badges/request":  h.requestBadge,
		"/badges/review":   h.reviewBadge,
		"/badges/complete": h.completeCourse,
	} {
		r.Post("/courses/{slug}"+path, h.requireUser(h.withCourse(action)))
	}
	r.Get("/courses/{slug}/achievements/{id}", h.achievement)
	r.Get("/credentials/{id}", h.credential)
	r.Get("/verify", h.verifyForm)
	r.Post("/verify", h.verifyPage)
	r.Get("/@{username}/badges/{id}", h.backpackItem)
}

// BadgeAPIRoutes mounts what other programs fetch or post, outside the
// pages' session and cross-origin protection: credential JSON, the Notes
// sent to Mastodon learners, status lists, and POST /credentials/verify,
// which verifies any credential for anyone.
func (h *Handler) BadgeAPIRoutes(r chi.Router) {
	r.Post("/credentials/verify", h.verifyAPI)
	r.Get("/credentials/{id}/note", h.badgeNote(false))
	r.Get("/credentials/{id}/revocation-note", h.badgeNote(true))
	r.Get("/courses/{slug}/status/revocation", h.statusList)
}

// CredentialMediaType is the media type credentials are served as.
const CredentialMediaType = "application/vc+ld+json"

// wantsCredentialJSON reports whether the request asks for JSON (a
// credential or an Achievement) rather than a page.
func wantsCredentialJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	for _, t := range []string{"application/vc+ld+json", "application/vc", "application/ld+json", "application/json", "application/activity+json"} {
		if strings.Contains(a, t) {
			return true
		}
	}
	return r.URL.Query().Get("format") == "json"
}

func writeJSONBody(w http.ResponseWriter, status int, mediaType string, body []byte) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(status)
	w.Write(body)
}

func writeJSONValue(w http.ResponseWriter, status int, v any) {
	body, _ := json.MarshalIndent(v, "", "  ")
	writeJSONBody(w, status, "application/json", append(body, '\n'))
}

// allowRemoteImages widens the pages' Content-Security-Policy for a badge
// page: a badge's image lives wherever its issuer put it.
func allowRemoteImages(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}
