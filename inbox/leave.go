package inbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// leave unenrolls a remote member who sent Leave for a local course.
func (p *Processor) leave(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	c, ok, err := p.localCourse(ctx, in.ObjectIRI())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: Leave of %s, which is not a course here", errIgnored, in.ObjectIRI())
	}
	_, err = p.Courses.Unenroll(ctx, tx, c.ID, in.Actor)
	return err
}
