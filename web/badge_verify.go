package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/colearn/colearn/federation/credential"
)

// verifyAPI answers POST /credentials/verify: the body is any Verifiable
// Credential (JSON); the answer is the report as JSON, 200 whether or not
// the credential is valid ("valid" says), 413 past the size limit.
func (h *Handler) verifyAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, credential.MaxDocument))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeJSONValue(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "credential larger than 256 KiB"})
		return
	}
	if err != nil || len(body) == 0 {
		writeJSONValue(w, http.StatusBadRequest, map[string]string{"error": "send the credential as the request body"})
		return
	}
	writeJSONValue(w, http.StatusOK, h.cfg.Verifier.Verify(r.Context(), body))
}

// verifyForm shows a form where anyone pastes a credential to verify.
func (h *Handler) verifyForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "verify", "Verify a badge", nil)
}

// verifyPage verifies the pasted credential and shows the report: 413 past
// the size limit, 400 naming the field for a form that does not read (a NUL
// character, bytes that are not UTF-8).
func (h *Handler) verifyPage(w http.ResponseWriter, r *http.Request) {
	if err := parseFormMax(w, r, credential.MaxDocument+4096); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			h.renderError(w, r, http.StatusRequestEntityTooLarge, "Too large", "A credential is at most 256 KiB.")
		} else {
			h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		}
		return
	}
	h.showCredential(w, r, []byte(r.PostForm.Get("credential")), "", nil, false)
}
