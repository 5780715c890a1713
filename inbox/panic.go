package inbox

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/jackc/pgx/v5"
)

// A panic while applying an activity (a bug here, or in a library that
// a crafted document drives somewhere it never expected) must not stop
// the process: the activity would still be pending after the restart and
// stop it again, so one hostile body could keep an instance down. Instead
// the activity fails for good, its savepoint rolls back, and the panic is
// logged with its stack for the engineers.

// applyRecovering is apply, with a panic turned into a final failure.
func (p *Processor) applyRecovering(ctx context.Context, tx pgx.Tx, in *Incoming) (err error) {
	defer p.recovered(in, "applying it", &err)
	return p.apply(ctx, tx, in)
}

// recovered, deferred, turns a panic into *err (ErrMalformed: final, not
// retried) and logs it.
func (p *Processor) recovered(in *Incoming, doing string, err *error) {
	v := recover()
	if v == nil {
		return
	}
	p.Logger.Error("inbox activity panicked; dropped", "id", in.ID, "type", in.Type, "actor", in.Actor,
		"doing", doing, "panic", v, "stack", string(debug.Stack()))
	*err = fmt.Errorf("%w: %s panicked", ErrMalformed, doing)
}
