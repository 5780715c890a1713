package web

import (
	"fmt"
	"net/http"

	"github.com/colearn/colearn/courses"
)

type domainsPage struct {
	Blocks       []courses.DomainBlock
	Host, Reason string
	Error        string
	Notice       string
}

// domainBlocks lists the blocked servers with the block form.
func (h *Handler) domainBlocks(w http.ResponseWriter, r *http.Request) {
	h.renderDomains(w, r, http.StatusOK, domainsPage{})
}

// domainBlocksPost blocks (action=block, host, reason) or unblocks
// (action=unblock, host) a server, as the signed-in admin; a bad host is
// 422 with the form again, unblocking a host that is not blocked 404.
func (h *Handler) domainBlocksPost(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		h.renderError(w, r, http.StatusBadRequest, "Bad request", formProblem(err))
		return
	}
	me := viewer(r)
	data := domainsPage{Host: r.PostForm.Get("host"), Reason: r.PostForm.Get("reason")}
	var err error
	switch r.PostForm.Get("action") {
	case "block":
		var b courses.DomainBlock
		var gone []courses.Member
		if b, gone, err = h.cfg.Actions.BlockDomain(r.Context(), me.Username, data.Host, data.Reason); err == nil {
			data = domainsPage{Notice: fmt.Sprintf("Blocked %s; %d membership(s) ended.", b.Host, len(gone))}
		}
	case "unblock":
		if err = h.cfg.Actions.UnblockDomain(r.Context(), me.Username, data.Host, data.Reason); err == nil {
			data = domainsPage{Notice: "Unblocked " + data.Host + "."}
		}
	default:
		h.renderError(w, r, http.StatusBadRequest, "Bad request", "Unknown action.")
		return
	}
	if err != nil {
		status, msg, ok := actionError(err)
		if !ok {
			h.serverError(w, r, fmt.Errorf("domain blocks: %w", err))
			return
		}
		if status == http.StatusNotFound {
			msg = data.Host + " is not blocked."
		}
		data.Error = msg
		h.renderDomains(w, r, status, data)
		return
	}
	h.renderDomains(w, r, http.StatusOK, data)
}

func (h *Handler) renderDomains(w http.ResponseWriter, r *http.Request, status int, data domainsPage) {
	blocks, err := h.cfg.Store.DomainBlocks(r.Context(), h.cfg.Store.Pool())
	if err != nil {
		h.serverError(w, r, fmt.Errorf("domain blocks: %w", err))
		return
	}
	data.Blocks = blocks
	h.render(w, r, status, "admin_domains", "Blocked servers", data)
}
