package inbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// join enrolls a user of another colearn instance in a local course; it is
// Follow's rule, recorded as a Join so the course knows the member's server
// renders the whole discussion.
func (p *Processor) join(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	c, ok, err := p.localCourse(ctx, in.ObjectIRI())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: Join of %s, which is not a course here", errIgnored, in.ObjectIRI())
	}
	return p.enroll(ctx, tx, in, c, "join")
}
