package federation

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The co-authoring vocabulary (FEDERATION.md, "Co-authors on other
// servers"): roles are IRIs in colearn's namespace, carried as the
// instrument of Invite, Add and Remove.
const (
	RoleAuthorIRI    = Namespace + "author"
	RoleModeratorIRI = Namespace + "moderator"
)

// RoleIRI returns the IRI of a role name ("author", "moderator").
func RoleIRI(role string) string { return Namespace + role }

// RoleName returns the role an IRI names, or "" for anything else.
func RoleName(iri string) string {
	switch iri {
	case RoleAuthorIRI:
		return "author"
	case RoleModeratorIRI:
		return "moderator"
	}
	return ""
}

// CoauthorContext is the @context of co-authoring activities.
var CoauthorContext = []any{
	"https://www.w3.org/ns/activitystreams",
	map[string]any{
		"colearn":      Namespace,
		"modules":      map[string]any{"@id": "colearn:modules", "@type": "@id"},
		"position":     "colearn:position",
		"revision":     "colearn:revision",
		"baseRevision": "colearn:baseRevision",
	},
}

// JSONActivity renders an activity given as a map with CoauthorContext.
// It fails only when a value cannot be encoded.
func JSONActivity(m map[string]any) ([]byte, error) {
	m["@context"] = CoauthorContext
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %v activity: %w", m["type"], err)
	}
	return b, nil
}

// ModuleID returns the id of a module of local course slug named by its
// IRI, with ok false for any other IRI.
func (u URLs) ModuleID(slug, iri string) (int64, bool) {
	rest, ok := strings.CutPrefix(iri, u.Course(slug)+"/modules/")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// SyllabusCourse returns the slug of the local course whose modules
// collection iri is, with ok false for any other IRI.
func (u URLs) SyllabusCourse(iri string) (string, bool) {
	course, ok := strings.CutSuffix(iri, "/modules")
	if !ok {
		return "", false
	}
	return u.CourseSlug(course)
}
