package federation

import (
	"encoding/json"
	"fmt"

	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/courses"
)

// ActivityContext is the @context of the activities and objects colearn
// sends: ActivityStreams plus colearn's own terms.
var ActivityContext = []any{
	"https://www.w3.org/ns/activitystreams",
	map[string]any{
		"colearn":                   Namespace,
		"licence":                   map[string]any{"@id": "colearn:licence", "@type": "@id"},
		"modules":                   map[string]any{"@id": "colearn:modules", "@type": "@id"},
		"position":                  "colearn:position",
		"version":                   "colearn:version",
		"openDiscussion":            "colearn:openDiscussion",
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"Hashtag":                   "as:Hashtag",
		"sensitive":                 "as:sensitive",
	},
}

// CourseActor is what a course's Group actor document is made of.
type CourseActor struct {
	Course      courses.Course
	SummaryHTML string
	Keys        KeyPair
	// AttributedTo are the IRIs of the owner and moderators.
	AttributedTo []string
	// CohostedBy are the instance actors co-hosting the course
	// (colearn:cohostedBy, cohost.go).
	CohostedBy []string
}

// CourseDocument renders a local course as a Group actor (FEP-1b12) with
// colearn's course terms.
func (u URLs) CourseDocument(ca CourseActor) ([]byte, error) {
	c := ca.Course
	iri := u.Course(c.Slug)
	g := vocab.ActorNew(vocab.IRI(iri), vocab.GroupType)
	g.PreferredUsername = vocab.DefaultNaturalLanguageValue(c.Slug)
	g.Name = vocab.DefaultNaturalLanguageValue(c.Title)
	if ca.SummaryHTML != "" {
		g.Summary = vocab.DefaultNaturalLanguageValue(ca.SummaryHTML)
	}
	g.URL = vocab.IRI(iri)
	g.Inbox = vocab.IRI(iri + "/inbox")
	g.Outbox = vocab.IRI(iri + "/outbox")
	g.Followers = vocab.IRI(iri + "/followers")
	g.Following = vocab.IRI(iri + "/following")
	g.Endpoints = &vocab.Endpoints{SharedInbox: vocab.IRI(u.SharedInbox())}
	g.PublicKey = vocab.PublicKey{ID: vocab.IRI(MainKey(iri)), Owner: vocab.IRI(iri), PublicKeyPem: ca.Keys.PublicKeyPEM()}
	g.Published = c.CreatedAt.UTC()
	g.Updated = c.UpdatedAt.UTC()
	var attributed vocab.ItemCollection
	for _, a := range ca.AttributedTo {
		attributed = append(attributed, vocab.IRI(a))
	}
	if len(attributed) > 0 {
		g.AttributedTo = attributed
	}
	for _, t := range c.Tags {
		g.Tag = append(g.Tag, &vocab.Object{Type: "Hashtag", Name: vocab.DefaultNaturalLanguageValue("#" + t),
			URL: vocab.IRI(u.Base() + "/tags/" + t)})
	}
	body, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("encode course %s: %w", iri, err)
	}
	ctx := append(append([]any{}, ActorContext[:3]...), mergeContexts(ActorContext[3], ActivityContext[1]))
	return withContext(body, ctx, withCohosts(map[string]any{
		"assertionMethod": []map[string]any{{
			"id": AssertionKey(iri), "type": "Multikey", "controller": iri,
			"publicKeyMultibase": ca.Keys.PublicKeyMultibase(),
		}},
		"manuallyApprovesFollowers": c.ManuallyApproves,
		"discoverable":              true,
		"colearn:course":            true,
		"licence":                   "https://spdx.org/licenses/" + c.Licence + ".html",
		"modules":                   iri + "/modules",
		"version":                   c.Version,
		"openDiscussion":            c.OpenDiscussion,
		"language":                  c.Language,
	}, ca.CohostedBy))
}

func mergeContexts(a, b any) map[string]any {
	out := map[string]any{}
	for _, m := range []any{a, b} {
		for k, v := range m.(map[string]any) {
			out[k] = v
		}
	}
	return out
}

// PostObject is the ActivityStreams form of a post: a Note (discussion,
// announcements) or an Article (lessons), with audience and context = its
// course (FEP-1b12), its content warning, tags and attachments
// (post_rich.go), the mentioned actors in cc, and, for a post written
// here, its replies collection.
func PostObject(p courses.Post) vocab.Item {
	o := vocab.ObjectNew(vocab.ActivityVocabularyType(p.Type))
	o.ID = vocab.IRI(p.IRI)
	o.AttributedTo = vocab.IRI(p.AuthorIRI)
	o.Content = vocab.DefaultNaturalLanguageValue(p.Content)
	o.MediaType = "text/html"
	if p.Name != "" {
		o.Name = vocab.DefaultNaturalLanguageValue(p.Name)
	}
	if p.InReplyTo != "" {
		o.InReplyTo = vocab.IRI(p.InReplyTo)
	}
	url := p.URL
	if url == "" {
		url = p.IRI
	}
	o.URL = vocab.IRI(url)
	o.Published = p.Published.UTC()
	if !p.Updated.IsZero() {
		o.Updated = p.Updated.UTC()
	}
	o.Audience = vocab.ItemCollection{vocab.IRI(p.CourseIRI)}
	o.Context = vocab.IRI(p.CourseIRI)
	o.To = vocab.ItemCollection{vocab.IRI(p.CourseIRI), vocab.PublicNS}
	o.CC = vocab.ItemCollection{vocab.IRI(Followers(p.CourseIRI))}
	return richPost(o, p)
}

// Document adds @context to an ActivityStreams value, making the JSON-LD
// document that is served or sent.
func Document(v vocab.Item) ([]byte, error) {
	body, err := vocab.MarshalJSON(v)
	if err != nil {
		return nil, err
	}
	return withContext(body, ActivityContext, nil)
}

// NewActivity makes an activity of type t by actor about object, addressed
// to to and cc; the audience is set when audience is not empty.
func NewActivity(id string, t vocab.ActivityVocabularyType, actor string, object vocab.Item, audience string, to, cc []string) *vocab.Activity {
	a := vocab.ActivityNew(vocab.IRI(id), t, object)
	a.Actor = vocab.IRI(actor)
	for _, x := range to {
		a.To = append(a.To, vocab.IRI(x))
	}
	for _, x := range cc {
		a.CC = append(a.CC, vocab.IRI(x))
	}
	if audience != "" {
		a.Audience = vocab.ItemCollection{vocab.IRI(audience)}
	}
	return a
}
