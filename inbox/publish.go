package inbox

import (
	"context"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// errIgnored marks activities that are valid but not for anything here.
var errIgnored = errors.New("ignored")

// localCourse returns the local course iri names, with ok false when iri is
// not a course of this instance. Within a batch it reads each course once
// (batch_courses.go).
func (p *Processor) localCourse(ctx context.Context, iri string) (courses.Course, bool, error) {
	slug, ok := p.URLs.CourseSlug(iri)
	if !ok {
		return courses.Course{}, false, nil
	}
	kept := batchCoursesOf(ctx)
	if c, ok := kept.get(slug); ok {
		return c, true, nil
	}
	c, err := p.Courses.CourseBySlug(ctx, slug)
	if errors.Is(err, courses.ErrNotFound) {
		return courses.Course{}, false, nil
	}
	if err == nil {
		kept.put(slug, c)
	}
	return c, err == nil, err
}

// postFrom maps a Note or Article onto a post of courseIRI; doc is the
// object's JSON, for what go-ap does not keep (rich.go).
func postFrom(o *vocab.Object, doc []byte, courseIRI string, author federation.RemoteActor) courses.Post {
	p := courses.Post{
		IRI:          o.ID.String(),
		CourseIRI:    courseIRI,
		AuthorIRI:    author.IRI,
		AuthorName:   author.DisplayName(),
		AuthorHandle: author.Handle(),
		Type:         string(o.Type),
		Name:         o.Name.First().String(),
		Content:      o.Content.First().String(),
		Published:    o.Published,
		Updated:      o.Updated,
	}
	if o.InReplyTo != nil {
		p.InReplyTo = o.InReplyTo.GetLink().String()
	}
	setRich(&p, doc)
	if o.URL != nil {
		if u := o.URL.GetLink().String(); federation.SameOrigin(u, p.IRI) {
			p.URL = u
		}
	}
	return p
}

// isPostType reports whether o is something colearn keeps as a post: a
// Note, an Article, or a Page (Lemmy's and Mbin's posts in groups).
func isPostType(o *vocab.Object) bool {
	return o.Type == vocab.NoteType || o.Type == vocab.ArticleType || o.Type == vocab.PageType
}

// attributedTo returns the first attributedTo of o.
func attributedTo(o *vocab.Object) string {
	if o.AttributedTo == nil {
		return ""
	}
	if col, ok := o.AttributedTo.(vocab.ItemCollection); ok {
		if len(col) == 0 {
			return ""
		}
		return col[0].GetLink().String()
	}
	return o.AttributedTo.GetLink().String()
}

// isPublic reports whether the document doc (an object's JSON) is
// addressed to the public collection, in to or cc, in any of the forms used
// in the wild: the full IRI, "as:Public" or "Public". It reads the JSON
// itself, since go-ap drops the compact forms, and reads it as go-ap does:
// member names match exactly (encoding/json would also take "TO" for "to",
// so a body carrying both would be read one way here and another there).
// Only public posts reach a course's discussion, its public page and its
// announce fan-out.
func isPublic(doc []byte) bool {
	var addr struct {
		To jsontext.Value `json:"to"`
		CC jsontext.Value `json:"cc"`
	}
	if jsonv2.Unmarshal(doc, &addr) != nil {
		return false
	}
	for _, field := range []jsontext.Value{addr.To, addr.CC} {
		for _, iri := range iris(field) {
			switch iri {
			case federation.Public, "as:Public", "Public":
				return true
			}
		}
	}
	return false
}

// iris reads an addressing property: one IRI, an object with an id, or a
// list of either.
func iris(v jsontext.Value) []string {
	if len(v) == 0 {
		return nil
	}
	var one string
	if jsonv2.Unmarshal(v, &one) == nil {
		return []string{one}
	}
	var obj struct {
		ID string `json:"id"`
	}
	if v[0] == '{' && jsonv2.Unmarshal(v, &obj) == nil {
		return []string{obj.ID}
	}
	var list []jsontext.Value
	if jsonv2.Unmarshal(v, &list) != nil {
		return nil
	}
	var out []string
	for _, x := range list {
		if len(x) > 0 && x[0] != '[' {
			out = append(out, iris(x)...)
		}
	}
	return out
}

// objectJSON is the JSON of the activity's object as it was decided on: the
// embedded object, or the document fetched from its origin.
func (in *Incoming) objectJSON(iri string) []byte {
	if in.objectEmbedded() && in.ObjectIRI() == iri {
		return in.raw["object"]
	}
	return in.fetched[iri].body
}

// errNotPublic marks a post that is direct or followers-only: colearn
// publishes nothing of it (see FEDERATION.md).
var errNotPublic = fmt.Errorf("%w: not addressed to the public", errIgnored)

// mayAuthor reports whether authorIRI may be the author of the object
// objectIRI: only when both share an origin. Co-authoring grants, when they
// come, are checked here.
func mayAuthor(objectIRI, authorIRI string) bool {
	return authorIRI != "" && federation.SameOrigin(objectIRI, authorIRI)
}
