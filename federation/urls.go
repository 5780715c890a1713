package federation

import (
	"crypto/rand"
	"encoding/base32"
	"net/url"
	"strconv"
	"strings"
)

// URLs builds the IRIs of this instance's actors and collections. Every IRI
// it returns is served by this package's handlers or by the inbox and outbox.
type URLs struct {
	// Scheme is "https", or "http" in development mode.
	Scheme string
	// Host is the public host[:port] that goes into every id.
	Host string
}

// Base is the instance's origin, e.g. https://learn.example.org.
func (u URLs) Base() string { return u.Scheme + "://" + u.Host }

// InstanceActor is the IRI of the instance's Application actor, which signs
// fetches made on the instance's behalf.
func (u URLs) InstanceActor() string { return u.Base() + "/actor" }

// User is the IRI of a local user's Person actor.
func (u URLs) User(name string) string { return u.Base() + "/users/" + name }

// Actor is the IRI of the local actor owning the keys of owner ("" for the
// instance actor).
func (u URLs) Actor(owner string) string {
	if owner == "" {
		return u.InstanceActor()
	}
	return u.User(owner)
}

// MainKey is the id of an actor's RSA key for HTTP signatures.
func MainKey(actorIRI string) string { return actorIRI + "#main-key" }

// AssertionKey is the id of an actor's Ed25519 Multikey (FEP-521a).
func AssertionKey(actorIRI string) string { return actorIRI + "#ed25519-key" }

// SharedInbox is the instance's shared inbox.
func (u URLs) SharedInbox() string { return u.Base() + "/inbox" }

// Profile is the HTML page of a local user.
func (u URLs) Profile(name string) string { return u.Base() + "/@" + name }

// IsLocal reports whether iri is on this instance's origin.
func (u URLs) IsLocal(iri string) bool {
	p, err := url.Parse(iri)
	return err == nil && p.Scheme == u.Scheme && strings.EqualFold(p.Host, u.Host)
}

// Origin returns scheme://host[:port] of iri, lower-cased, or "" when iri is
// not an absolute http(s) URL.
func Origin(iri string) string {
	p, err := url.Parse(iri)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return strings.ToLower(p.Scheme + "://" + p.Host)
}

// SameOrigin reports whether a and b are absolute http(s) IRIs on one origin.
func SameOrigin(a, b string) bool {
	oa := Origin(a)
	return oa != "" && oa == Origin(b)
}

// Course is the IRI of a local course's Group actor.
func (u URLs) Course(slug string) string { return u.Base() + "/courses/" + slug }

// Post is the IRI of a post written on this instance.
func (u URLs) Post(id string) string { return u.Base() + "/posts/" + id }

// Activity is the IRI of an activity sent by this instance.
func (u URLs) Activity(id string) string { return u.Base() + "/activities/" + id }

// Module is the IRI of a published lesson of a local course.
func (u URLs) Module(slug string, id int64) string {
	return u.Course(slug) + "/modules/" + strconv.FormatInt(id, 10)
}

// Followers is the followers collection of a local actor.
func Followers(actorIRI string) string { return actorIRI + "/followers" }

// NewID returns a random, URL-safe identifier for posts and activities.
func NewID() string {
	var b [12]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// Public is the ActivityStreams public collection.
const Public = "https://www.w3.org/ns/activitystreams#Public"

// CourseSlug returns the slug of a local course's IRI, with ok false for
// any other IRI.
func (u URLs) CourseSlug(iri string) (slug string, ok bool) {
	slug, ok = strings.CutPrefix(iri, u.Base()+"/courses/")
	if !ok || slug == "" || strings.ContainsAny(slug, "/?#") {
		return "", false
	}
	return slug, true
}
