package inbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"
)

// undo applies Undo(Follow) and Undo(Join): the learner leaves the course.
// Undo of anything else (a Like, an Announce) is acknowledged and ignored.
func (p *Processor) undo(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	courseID, err := p.Courses.CourseOfRequest(ctx, tx, in.Actor, in.ObjectIRI())
	if err != nil {
		// The request may be unknown by id (some servers make up a new one);
		// an embedded Follow names the course.
		obj := in.Activity.Object
		if obj == nil || !obj.IsObject() {
			return err
		}
		inner, ierr := vocab.ToActivity(obj)
		if ierr != nil || (inner.Type != vocab.FollowType && inner.Type != vocab.JoinType) || inner.Actor == nil ||
			inner.Actor.GetLink().String() != in.Actor || inner.Object == nil {
			return fmt.Errorf("%w: Undo of something that is not this actor's Follow", errIgnored)
		}
		c, ok, cerr := p.localCourse(ctx, inner.Object.GetLink().String())
		if cerr != nil || !ok {
			return fmt.Errorf("%w: Undo(Follow) of a course not here", errIgnored)
		}
		courseID = c.ID
	}
	_, err = p.Courses.Unenroll(ctx, tx, courseID, in.Actor)
	return err
}
