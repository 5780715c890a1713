package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation/credential"
)

// credentialPage shows one credential with a live verification: each
// check, its outcome and why.
type credentialPage struct {
	Report   credential.Report
	JSON     string
	Download string // URL of the JSON download
	Kept     *courses.BackpackItem
	Own      bool
	Revoked  bool
}

// credential serves /credentials/{id}: the signed credential as JSON for
// programs, or the verification page.
func (h *Handler) credential(w http.ResponseWriter, r *http.Request) {
	aw, err := h.cfg.Store.AwardByPublicID(r.Context(), h.cfg.Pool, chi.URLParam(r, "id"))
	if errors.Is(err, courses.ErrNotFound) {
		h.notFound(w, r, "There is no such credential here.")
		return
	}
	if err != nil {
		h.serverError(w, r, fmt.Errorf("credential: %w", err))
		return
	}
	if wantsCredentialJSON(r) || r.URL.Query().Get("download") != "" {
		serveCredential(w, r, aw.PublicID, aw.Credential)
		return
	}
	h.showCredential(w, r, aw.Credential, h.cfg.Actions.CredentialIRI(aw.PublicID)+"?download=1", nil, aw.RevokedAt != nil)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	if wantsCredentialJSON(r) {
		writeJSONValue(w, http.StatusNotFound, map[string]string{"error": msg})
		return
	}
	h.renderError(w, r, http.StatusNotFound, "Not found", msg)
}

// serveCredential writes a credential's bytes as they were signed; with
// ?download=1 as a file for a wallet.
func serveCredential(w http.ResponseWriter, r *http.Request, name string, body []byte) {
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
	}
	writeJSONBody(w, http.StatusOK, CredentialMediaType, body)
}

func (h *Handler) showCredential(w http.ResponseWriter, r *http.Request, body []byte, download string, kept *courses.BackpackItem, revoked bool) {
	report := h.cfg.Verifier.Verify(r.Context(), body)
	var pretty []byte
	var v any
	if json.Unmarshal(body, &v) == nil {
		pretty, _ = json.MarshalIndent(v, "", "  ")
	}
	allowRemoteImages(w)
	title := report.Achievement
	if title == "" {
		title = "Credential"
	}
	h.render(w, r, http.StatusOK, "credential", title, credentialPage{
		Report: report, JSON: string(pretty), Download: download, Kept: kept, Revoked: revoked || report.Revoked,
	})
}

// achievement serves an Achievement as Open Badges JSON, or a page.
func (h *Handler) achievement(w http.ResponseWriter, r *http.Request) {
	c, ok := h.findCourse(w, r, chi.URLParam(r, "slug"))
	if !ok {
		return
	}
	a, err := h.cfg.Store.AchievementByPublicID(r.Context(), h.cfg.Pool, c.ID, chi.URLParam(r, "id"))
	if errors.Is(err, courses.ErrNotFound) {
		h.notFound(w, r, "This course has no such achievement.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if wantsCredentialJSON(r) {
		body, _ := json.Marshal(h.cfg.Actions.AchievementOf(c, a).Document())
		writeJSONBody(w, http.StatusOK, "application/ld+json", body)
		return
	}
	views, err := h.achievementViews(r.Context(), c)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, v := range views {
		if v.ID == a.ID {
			allowRemoteImages(w)
			h.render(w, r, http.StatusOK, "achievement", a.Name, struct {
				Course      courses.Course
				Achievement achievementView
			}{c, v})
			return
		}
	}
}

// badgeNote serves the direct Note sent about an award or its revocation,
// so its id can be fetched like any other.
func (h *Handler) badgeNote(revocation bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		aw, err := h.cfg.Store.AwardByPublicID(r.Context(), h.cfg.Pool, chi.URLParam(r, "id"))
		if err == nil && (aw.ColearnPeer || aw.RecipientInbox == "" || (revocation && aw.RevokedAt == nil)) {
			err = courses.ErrNotFound // no such Note was sent
		}
		if errors.Is(err, courses.ErrNotFound) {
			http.Error(w, "no such note", http.StatusNotFound)
			return
		}
		var c courses.Course
		var a courses.Achievement
		if err == nil {
			c, err = h.cfg.Store.CourseByID(r.Context(), h.cfg.Pool, aw.CourseID)
		}
		if err == nil {
			a, err = h.cfg.Store.AchievementByID(r.Context(), h.cfg.Pool, aw.AchievementID)
		}
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		body, _ := json.Marshal(h.cfg.Actions.BadgeNote(c, a, aw, revocation))
		writeJSONBody(w, http.StatusOK, "application/activity+json", body)
	}
}

// statusList serves a course's signed revocation status list.
func (h *Handler) statusList(w http.ResponseWriter, r *http.Request) {
	c, err := h.cfg.Store.CourseBySlug(r.Context(), chi.URLParam(r, "slug"))
	if errors.Is(err, courses.ErrNotFound) {
		http.Error(w, "no such course", http.StatusNotFound)
		return
	}
	var body []byte
	if err == nil {
		body, err = h.cfg.Actions.StatusList(r.Context(), c)
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSONBody(w, http.StatusOK, CredentialMediaType, body)
}

// backpackItem shows a credential kept in a user's backpack, verified
// live, or downloads it (?download=1) for a wallet.
func (h *Handler) backpackItem(w http.ResponseWriter, r *http.Request) {
	u, err := h.cfg.Store.UserByUsername(r.Context(), chi.URLParam(r, "username"))
	var item courses.BackpackItem
	if err == nil {
		id, perr := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if perr != nil {
			err = courses.ErrNotFound
		} else {
			item, err = h.cfg.Store.BackpackItemByID(r.Context(), h.cfg.Pool, u.ID, id)
		}
	}
	if errors.Is(err, courses.ErrNotFound) {
		h.notFound(w, r, "There is no such badge here.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if wantsCredentialJSON(r) || r.URL.Query().Get("download") != "" {
		serveCredential(w, r, "badge-"+strconv.FormatInt(item.ID, 10), item.Credential)
		return
	}
	h.showCredential(w, r, item.Credential, r.URL.Path+"?download=1", &item, item.RevokedAt != nil)
}
