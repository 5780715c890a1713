package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/colearn/colearn/federation"
)

// remoteFollow sends a visitor who typed their fediverse handle
// (@me@mastodon.example) to their own server's authorize_interaction page
// for the course's IRI, where Mastodon (and servers that copy it) offers to
// follow it. It makes no outgoing request and changes nothing here, so it
// is a GET. A malformed handle re-renders the course page with 422.
func (h *Handler) remoteFollow(w http.ResponseWriter, r *http.Request) {
	slug := chi.URLParam(r, "slug")
	c, ok := h.findCourse(w, r, slug)
	if !ok {
		return
	}
	handle := r.URL.Query().Get("handle")
	_, host, err := federation.SplitHandle(handle)
	if err == nil {
		host, err = followHost(host)
	}
	if err != nil {
		h.renderCourse(w, r, c, http.StatusUnprocessableEntity, coursePage{
			FollowHandle: handle,
			Error:        "Your handle: write it as @name@your.server, for example @me@mastodon.social.",
		})
		return
	}
	target := "https://" + host + "/authorize_interaction?uri=" + url.QueryEscape(h.cfg.URLs.Course(c.Slug))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// followHost checks that host is a plain host[:port], so that the redirect
// cannot be bent to another URL.
func followHost(host string) (string, error) {
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.User != nil || u.Path != "" || u.Hostname() == "" {
		return "", fmt.Errorf("%q is not a host", host)
	}
	return host, nil
}
