package inbox

import (
	"context"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// announce takes in a remote course's boost of a post, or of an Update or
// Delete of one, for local users enrolled in that course. Nothing embedded
// is trusted: the post is fetched from its own origin, and a post that is
// gone there is deleted here.
func (p *Processor) announce(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if ok, err := p.Courses.HasEnrollments(ctx, tx, in.Actor); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: Announce from %s, which nobody here is enrolled in", errIgnored, in.Actor)
	}
	obj := in.Activity.Object
	if obj == nil {
		return fmt.Errorf("%w: Announce without object", ErrMalformed)
	}
	postIRI := obj.GetLink().String()
	if obj.IsObject() && vocab.ActivityTypes.Contains(obj.GetType()) {
		inner, err := vocab.ToActivity(obj)
		if err != nil || inner.Object == nil {
			return fmt.Errorf("%w: announced activity without object", ErrMalformed)
		}
		postIRI = inner.Object.GetLink().String()
	}
	o, err := p.fetchObject(ctx, postIRI)
	if errors.Is(err, federation.ErrGone) {
		cur, err := p.Courses.PostByIRI(ctx, tx, postIRI)
		if err != nil || cur.CourseIRI != in.Actor {
			return nil // never had it, or not this course's to delete
		}
		_, err = p.Courses.DeletePost(ctx, tx, postIRI)
		return err
	}
	if err != nil {
		return err
	}
	if !isPostType(o) {
		return fmt.Errorf("%w: Announce of a %s", errIgnored, o.Type)
	}
	authorIRI := attributedTo(o)
	if !federation.SameOrigin(authorIRI, o.ID.String()) {
		return fmt.Errorf("post %s is attributed to %q on another origin: %w", o.ID, authorIRI, courses.ErrForbidden)
	}
	author, err := p.Fetcher.Actor(ctx, authorIRI, false)
	if err != nil {
		return err
	}
	if cur, err := p.Courses.PostByIRI(ctx, tx, o.ID.String()); err == nil && cur.CourseIRI != in.Actor {
		return fmt.Errorf("%w: post %s belongs to another course", courses.ErrForbidden, o.ID)
	}
	_, _, err = p.Courses.SavePost(ctx, tx, postFrom(o, in.Actor, author))
	return err
}
