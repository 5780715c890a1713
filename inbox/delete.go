package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// delete applies a Delete: of an actor by itself (it leaves every course),
// of a post by its author (a local course re-announces the Delete), or of a
// post by the remote course it was posted in (a moderator removed it), or
// of a post of a local course by a moderator on another server holding a
// grant (moderator_remove.go).
// Every deleted id keeps a tombstone, and a Delete of an object not seen
// yet, on the actor's own origin, leaves one too: the Create it overtook is
// refused when it comes.
func (p *Processor) delete(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	iri := in.ObjectIRI()
	if iri == in.Actor {
		_, err := p.Courses.RemoveGone(ctx, tx, in.Actor)
		return err
	}
	cur, err := p.Courses.PostByIRI(ctx, tx, iri)
	if errors.Is(err, courses.ErrNotFound) {
		if iri == "" || !federation.SameOrigin(iri, in.Actor) {
			return fmt.Errorf("%w: Delete of an unknown object on another origin", errIgnored)
		}
		return p.Courses.Tombstone(ctx, tx, iri, in.Actor)
	}
	if err != nil {
		return err
	}
	if cur.Deleted {
		return nil
	}
	switch in.Actor {
	case cur.AuthorIRI:
		if _, err := p.Courses.DeletePost(ctx, tx, iri); err != nil {
			return err
		}
		if err := p.Courses.Tombstone(ctx, tx, iri, in.Actor); err != nil {
			return err
		}
		c, ok, err := p.localCourse(ctx, cur.CourseIRI)
		if err != nil || !ok {
			return err
		}
		if err := p.Sender.UndoAnnounces(ctx, tx, c, iri); err != nil { // for Mastodon followers (FEDERATION.md)
			return err
		}
		return p.Sender.AnnounceToMembers(ctx, tx, c, in.Activity, false)
	case cur.CourseIRI:
		if _, err := p.Courses.DeletePost(ctx, tx, iri); err != nil {
			return err
		}
		return p.Courses.Tombstone(ctx, tx, iri, in.Actor)
	default: // a moderator on another server, if a grant says so
		return p.moderatorRemoves(ctx, tx, in, cur)
	}
}
