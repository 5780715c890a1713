package federation

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/colearn/colearn/courses"
)

// webfinger answers acct: lookups of local users and of the instance actor
// (acct:host@host). The host part must be this instance's host[:port].
func (h *Handler) webfinger(w http.ResponseWriter, r *http.Request) {
	resource := r.URL.Query().Get("resource")
	if resource == "" {
		http.Error(w, "missing resource parameter", http.StatusBadRequest)
		return
	}
	var name string
	switch {
	case strings.HasPrefix(resource, "acct:"):
		n, host, err := SplitHandle(resource)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if !strings.EqualFold(host, h.URLs.Host) {
			http.Error(w, "resource is not on this instance", http.StatusNotFound)
			return
		}
		name = strings.ToLower(n)
	case h.URLs.IsLocal(resource):
		// An actor IRI or profile URL of ours.
		switch p := strings.TrimPrefix(resource, h.URLs.Base()); {
		case p == "/actor":
			name = h.URLs.Host
		case strings.HasPrefix(p, "/users/"):
			name = strings.TrimPrefix(p, "/users/")
		case strings.HasPrefix(p, "/courses/"):
			name = strings.TrimPrefix(p, "/courses/")
		case strings.HasPrefix(p, "/@"):
			name = strings.TrimPrefix(p, "/@")
		}
	default:
		http.Error(w, "resource must be an acct: URI or an actor URL of this instance", http.StatusBadRequest)
		return
	}
	body, ok, err := h.renderJRD(r, name)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if !ok {
		http.Error(w, "no such account", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/jrd+json; charset=utf-8")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Write(body)
}

// renderJRD returns the encoded JRD of the local actor name, from the cache
// while it is fresh; ok is false when there is no such actor.
func (h *Handler) renderJRD(r *http.Request, name string) (body []byte, ok bool, err error) {
	if body, ok := h.Cache.get(docWebFinger, name); ok {
		return body, true, nil
	}
	jrd, ok, err := h.lookupJRD(r, name)
	if err != nil || !ok {
		return nil, false, err
	}
	if body, err = json.Marshal(jrd); err != nil {
		return nil, false, fmt.Errorf("encode JRD of %s: %w", name, err)
	}
	body = append(body, '\n')
	h.Cache.put(docWebFinger, name, body)
	return body, true, nil
}

func (h *Handler) lookupJRD(r *http.Request, name string) (JRD, bool, error) {
	if name == "" {
		return JRD{}, false, nil
	}
	if strings.EqualFold(name, h.URLs.Host) || name == strings.Split(h.URLs.Host, ":")[0] {
		iri := h.URLs.InstanceActor()
		return JRD{
			Subject: "acct:" + h.URLs.Host + "@" + h.URLs.Host,
			Aliases: []string{iri},
			Links: []Link{
				{Rel: "self", Type: ContentTypeActivity, Href: iri},
			},
		}, true, nil
	}
	u, err := h.Courses.UserByUsername(r.Context(), name)
	if errors.Is(err, courses.ErrNotFound) {
		return h.courseJRD(r, name)
	}
	if err != nil {
		return JRD{}, false, err
	}
	iri := h.URLs.User(u.Username)
	return JRD{
		Subject: "acct:" + u.Username + "@" + h.URLs.Host,
		Aliases: []string{iri, h.URLs.Profile(u.Username)},
		Links: []Link{
			{Rel: "self", Type: ContentTypeActivity, Href: iri},
			{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: h.URLs.Profile(u.Username)},
		},
	}, true, nil
}

func (h *Handler) hostMeta(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" template="%s/.well-known/webfinger?resource={uri}"/>
</XRD>
`, h.URLs.Base())
}

func (h *Handler) nodeInfoLinks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"links": []Link{
			{Rel: "http://nodeinfo.diaspora.software/ns/schema/2.1", Href: h.URLs.Base() + "/nodeinfo/2.1"},
			{Rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", Href: h.URLs.Base() + "/nodeinfo/2.0"},
		},
	})
}

// nodeInfo serves NodeInfo 2.0 and 2.1 with the instance's real counts.
func (h *Handler) nodeInfo(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	if version == "" {
		version = strings.TrimPrefix(r.URL.Path, "/nodeinfo/")
	}
	usage, err := h.Courses.Usage(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	mode, err := h.Courses.Registrations(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	software := map[string]any{"name": "colearn", "version": h.Version}
	if version == "2.1" {
		software["repository"] = "https://github.com/colearn/colearn"
	}
	doc := map[string]any{
		"version":           version,
		"software":          software,
		"protocols":         []string{"activitypub"},
		"services":          map[string]any{"inbound": []string{}, "outbound": []string{}},
		"openRegistrations": mode == courses.RegistrationsOpen,
		"usage": map[string]any{
			"users": map[string]int{
				"total": usage.Users, "activeMonth": usage.ActiveMonth, "activeHalfyear": usage.ActiveHalfyear,
			},
			"localPosts": usage.LocalPosts,
		},
		"metadata": map[string]any{"nodeName": h.URLs.Host, "registrations": string(mode)},
	}
	w.Header().Set("Content-Type", fmt.Sprintf(`application/json; profile="http://nodeinfo.diaspora.software/ns/schema/%s#"`, version))
	json.NewEncoder(w).Encode(doc)
}

func (h *Handler) courseJRD(r *http.Request, slug string) (JRD, bool, error) {
	c, err := h.Courses.CourseBySlug(r.Context(), slug)
	if errors.Is(err, courses.ErrNotFound) {
		return JRD{}, false, nil
	}
	if err != nil {
		return JRD{}, false, err
	}
	iri := h.URLs.Course(c.Slug)
	return JRD{
		Subject: "acct:" + c.Slug + "@" + h.URLs.Host,
		Aliases: []string{iri},
		Links: []Link{
			{Rel: "self", Type: ContentTypeActivity, Href: iri},
			{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: iri},
		},
	}, true, nil
}
