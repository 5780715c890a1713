package inbox

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
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
	p.logPanic(v, "inbox activity panicked; dropped", "id", in.ID, "type", in.Type, "actor", in.Actor, "doing", doing)
	*err = fmt.Errorf("%w: %s panicked", ErrMalformed, doing)
}

// The bulk path (create_bulk.go) recovers too: a panic while choosing a
// Create for it leaves that Create to create.go, and one while storing a
// set rolls the set's savepoint back and sends every Create of it through
// create.go, where the same panic fails only its own activity.

// bulkCreateRecovering is bulkCreateOf, with a panic turned into ok false.
func (p *Processor) bulkCreateRecovering(ctx context.Context, tx pgx.Tx, in *Incoming) (post courses.Post, c courses.Course, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			p.logPanic(v, "choosing a Create for the bulk path panicked; applying it alone", "id", in.ID, "actor", in.Actor)
			post, c, ok = courses.Post{}, courses.Course{}, false
		}
	}()
	return p.bulkCreateOf(ctx, tx, in)
}

// logPanic logs v with the stack that raised it.
func (p *Processor) logPanic(v any, msg string, args ...any) {
	p.Logger.Error(msg, append(args, "panic", v, "stack", string(debug.Stack()))...)
}
