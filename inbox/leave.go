package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// leave unenrolls a remote member who sent Leave for a local course, and
// remembers the departure, so that a Join sent before the Leave and
// delivered after it does not enroll them again (see
// courses.Store.StaleRequest).
func (p *Processor) leave(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	c, ok, err := p.localCourse(ctx, in.ObjectIRI())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: Leave of %s, which is not a course here", errIgnored, in.ObjectIRI())
	}
	_, err = p.Courses.Unenroll(ctx, tx, c.ID, in.Actor)
	early := errors.Is(err, courses.ErrNotFound)
	if err != nil && !early {
		return err
	}
	sent := in.Activity.Published
	if sent.IsZero() {
		sent = time.Now()
	}
	return p.Courses.RecordDeparture(ctx, tx, c.ID, in.Actor, sent, early)
}
