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
// is trusted: the post is fetched from its own origin (after checking that
// anyone here follows the course), and a post that is gone there is deleted
// here. The course cannot claim another course's post, and only public
// posts are kept.
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
	if cur, err := p.Courses.PostByIRI(ctx, tx, postIRI); err == nil && cur.CourseIRI != in.Actor {
		return fmt.Errorf("post %s belongs to %s, not %s: %w", postIRI, cur.CourseIRI, in.Actor, courses.ErrNotOwner)
	}
	if err := p.Courses.Tombstoned(ctx, tx, postIRI); err != nil {
		return fmt.Errorf("%w: Announce of %v", errIgnored, err)
	}
	o, err := p.remoteObject(in, postIRI)
	if errors.Is(err, federation.ErrGone) {
		cur, err := p.Courses.PostByIRI(ctx, tx, postIRI)
		if err != nil || cur.CourseIRI != in.Actor {
			return nil // never had it, or not this course's to delete
		}
		if _, err = p.Courses.DeletePost(ctx, tx, postIRI); err != nil {
			return err
		}
		return p.Courses.Tombstone(ctx, tx, postIRI, in.Actor)
	}
	if err != nil {
		return err
	}
	if !isPostType(o) {
		return fmt.Errorf("%w: Announce of a %s", errIgnored, o.Type)
	}
	if !isPublic(in.objectJSON(postIRI)) {
		return fmt.Errorf("announced post %s: %w", o.ID, errNotPublic)
	}
	authorIRI := attributedTo(o)
	if !mayAuthor(o.ID.String(), authorIRI) {
		return fmt.Errorf("post %s is attributed to %q on another origin: %w", o.ID, authorIRI, courses.ErrForbidden)
	}
	author, err := p.actorOf(in, authorIRI, false)
	if err != nil {
		return err
	}
	_, _, err = p.Courses.SavePost(ctx, tx, postFrom(o, in.objectJSON(postIRI), in.Actor, author))
	return err
}
