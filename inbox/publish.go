package inbox

import (
	"context"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// errIgnored marks activities that are valid but not for anything here.
var errIgnored = errors.New("ignored")

// localCourse returns the local course iri names, with ok false when iri is
// not a course of this instance.
func (p *Processor) localCourse(ctx context.Context, iri string) (courses.Course, bool, error) {
	slug, ok := p.URLs.CourseSlug(iri)
	if !ok {
		return courses.Course{}, false, nil
	}
	c, err := p.Courses.CourseBySlug(ctx, slug)
	if errors.Is(err, courses.ErrNotFound) {
		return courses.Course{}, false, nil
	}
	return c, err == nil, err
}

// objectOf returns the activity's object as an ActivityStreams object: the
// embedded one when it comes from the actor's own origin (the signature
// vouches for it), else the one fetched from its origin.
func (p *Processor) objectOf(ctx context.Context, in *Incoming) (*vocab.Object, error) {
	obj := in.Activity.Object
	if obj == nil {
		return nil, fmt.Errorf("%w: no object", ErrMalformed)
	}
	iri := obj.GetLink().String()
	if obj.IsObject() && federation.SameOrigin(iri, in.Actor) {
		return vocab.ToObject(obj)
	}
	return p.fetchObject(ctx, iri)
}

func (p *Processor) fetchObject(ctx context.Context, iri string) (*vocab.Object, error) {
	body, err := p.Fetcher.Object(ctx, iri)
	if err != nil {
		return nil, err
	}
	item, err := vocab.UnmarshalJSON(body)
	if err != nil || item == nil {
		return nil, fmt.Errorf("%w: object %s", ErrMalformed, iri)
	}
	return vocab.ToObject(item)
}

// postFrom maps a Note or Article onto a post of courseIRI.
func postFrom(o *vocab.Object, courseIRI string, author federation.RemoteActor) courses.Post {
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
	if o.URL != nil {
		if u := o.URL.GetLink().String(); federation.SameOrigin(u, p.IRI) {
			p.URL = u
		}
	}
	return p
}

// isPostType reports whether o is something colearn keeps as a post.
func isPostType(o *vocab.Object) bool {
	return o.Type == vocab.NoteType || o.Type == vocab.ArticleType
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
