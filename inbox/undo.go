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

// undo applies Undo(Follow) and Undo(Join): the learner leaves the course.
// Whatever it undoes, the undone activity's id keeps a tombstone (when it is
// on the actor's origin), so that the Follow or Join it overtook is refused
// when it arrives. Undo of anything else (a Like, an Announce) is otherwise
// acknowledged and ignored.
func (p *Processor) undo(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	undone := in.ObjectIRI()
	if undone == "" {
		return fmt.Errorf("%w: Undo without object", ErrMalformed)
	}
	if federation.SameOrigin(undone, in.Actor) {
		if err := p.Courses.Tombstone(ctx, tx, undone, in.Actor); err != nil {
			return err
		}
	}
	if done, err := p.undoUserFollow(ctx, tx, in); done || err != nil { // follow_user.go
		return err
	}
	courseID, err := p.Courses.CourseOfRequest(ctx, tx, in.Actor, undone)
	if errors.Is(err, courses.ErrNotFound) {
		// The request may be unknown by id (not arrived yet, or some servers
		// make up a new one); an embedded Follow names the course.
		obj := in.Activity.Object
		if !obj.IsObject() {
			return nil // nothing to end now; the tombstone waits for it
		}
		inner, ierr := vocab.ToActivity(obj)
		if ierr != nil || (inner.Type != vocab.FollowType && inner.Type != vocab.JoinType) || inner.Actor == nil ||
			inner.Actor.GetLink().String() != in.Actor || inner.Object == nil {
			return nil
		}
		c, ok, cerr := p.localCourse(ctx, inner.Object.GetLink().String())
		if cerr != nil || !ok {
			return cerr
		}
		courseID = c.ID
	} else if err != nil {
		return err
	}
	if _, err = p.Courses.Unenroll(ctx, tx, courseID, in.Actor); errors.Is(err, courses.ErrNotFound) {
		return nil // not a member (any more, or yet): the tombstone covers it
	}
	return err
}
