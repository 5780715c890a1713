package inbox

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// accept applies a remote course's Accept (or Reject) of a Join that a local
// user sent. Only the course itself can answer: the enrollment is found by
// the course (the signed actor) and the Join's id together.
func (p *Processor) accept(ctx context.Context, tx pgx.Tx, in *Incoming, accepted bool) error {
	_, err := p.Courses.AnswerEnrollment(ctx, tx, in.Actor, in.ObjectIRI(), accepted)
	return err
}
