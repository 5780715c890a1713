package federation

import (
	"context"
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
	w.Header().Set("Access-Control-Allow-Origin", "*")
	h.serveDoc(w, r, "jrd:"+strings.ToLower(name), "no such account", true, func(ctx context.Context) (Doc, []courses.Scope, error) {
		jrd, scope, err := h.lookupJRD(ctx, name)
		if err != nil {
			return Doc{}, nil, err
		}
		body, err := json.Marshal(jrd)
		if err != nil {
			return Doc{}, nil, fmt.Errorf("encode JRD of %s: %w", name, err)
		}
		return Doc{Body: append(body, '\n'), ContentType: "application/jrd+json; charset=utf-8"}, []courses.Scope{scope}, nil
	})
}

// lookupJRD returns the JRD of the local actor name and the scope that
// would change it, or courses.ErrNotFound.
func (h *Handler) lookupJRD(ctx context.Context, name string) (JRD, courses.Scope, error) {
	if name == "" {
		return JRD{}, "", courses.ErrNotFound
	}
	if strings.EqualFold(name, h.URLs.Host) || name == strings.Split(h.URLs.Host, ":")[0] {
		iri := h.URLs.InstanceActor()
		return JRD{
			Subject: "acct:" + h.URLs.Host + "@" + h.URLs.Host,
			Aliases: []string{iri},
			Links: []Link{
				{Rel: "self", Type: ContentTypeActivity, Href: iri},
			},
		}, courses.SiteScope, nil
	}
	u, err := h.Courses.UserByUsername(ctx, name)
	if errors.Is(err, courses.ErrNotFound) {
		return h.courseJRD(ctx, name)
	}
	if err != nil {
		return JRD{}, "", err
	}
	iri := h.URLs.User(u.Username)
	return JRD{
		Subject: "acct:" + u.Username + "@" + h.URLs.Host,
		Aliases: []string{iri, h.URLs.Profile(u.Username)},
		Links: []Link{
			{Rel: "self", Type: ContentTypeActivity, Href: iri},
			{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: h.URLs.Profile(u.Username)},
		},
	}, courses.UserScope(u.Username), nil
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

// nodeInfo serves NodeInfo 2.0 and 2.1 with the instance's real counts and
// its identity in metadata.
func (h *Handler) nodeInfo(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	if version == "" {
		version = strings.TrimPrefix(r.URL.Path, "/nodeinfo/")
	}
	if version != "2.0" && version != "2.1" {
		http.Error(w, "unknown NodeInfo version", http.StatusNotFound)
		return
	}
	h.serveDoc(w, r, "nodeinfo:"+version, "no such document", true, func(ctx context.Context) (Doc, []courses.Scope, error) {
		body, err := h.renderNodeInfo(ctx, version)
		ct := fmt.Sprintf(`application/json; profile="http://nodeinfo.diaspora.software/ns/schema/%s#"`, version)
		return Doc{Body: body, ContentType: ct}, []courses.Scope{courses.SiteScope, courses.UsageScope}, err
	})
}

func (h *Handler) renderNodeInfo(ctx context.Context, version string) ([]byte, error) {
	usage, err := h.Courses.Usage(ctx)
	if err != nil {
		return nil, err
	}
	mode, err := h.Courses.Registrations(ctx)
	if err != nil {
		return nil, err
	}
	id, err := h.Courses.Identity(ctx)
	if err != nil {
		return nil, err
	}
	software := map[string]any{"name": "colearn", "version": h.Version}
	if version == "2.1" {
		software["repository"] = "https://github.com/colearn/colearn"
	}
	meta := map[string]any{"nodeName": id.SiteName(h.URLs.Host), "registrations": string(mode)}
	if id.Description != "" {
		meta["nodeDescription"] = id.Description
	}
	if id.Contact != "" {
		meta["contact"] = id.Contact
	}
	if id.Rules != "" {
		meta["rules"] = id.Rules
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
		"metadata": meta,
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode NodeInfo: %w", err)
	}
	return append(body, '\n'), nil
}

func (h *Handler) courseJRD(ctx context.Context, slug string) (JRD, courses.Scope, error) {
	c, err := h.Courses.CourseBySlug(ctx, slug)
	if err != nil {
		return JRD{}, "", err
	}
	iri := h.URLs.Course(c.Slug)
	return JRD{
		Subject: "acct:" + c.Slug + "@" + h.URLs.Host,
		Aliases: []string{iri},
		Links: []Link{
			{Rel: "self", Type: ContentTypeActivity, Href: iri},
			{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: iri},
		},
	}, courses.CourseScope(c.ID), nil
}
