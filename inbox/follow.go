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

// follow enrolls the follower of a local course as a learner (a Mastodon
// user pressing Follow) and answers with Accept, or holds the request when
// the course approves members by hand.
func (p *Processor) follow(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	c, ok, err := p.localCourse(ctx, in.ObjectIRI())
	if err != nil {
		return err
	}
	if !ok {
		return p.followUser(ctx, tx, in) // follow_user.go
	}
	if done, err := p.cohostFollow(ctx, tx, in, c); done || err != nil { // cohost.go: another instance co-hosts it
		return err
	}
	return p.enroll(ctx, tx, in, c, "follow")
}

// enroll is Follow's and Join's shared rule. A request that was undone
// before it arrived (its Undo overtook it), or that is older than the
// actor's last Leave, is dropped; both are checked before the actor is
// looked up.
func (p *Processor) enroll(ctx context.Context, tx pgx.Tx, in *Incoming, c courses.Course, via string) error {
	if err := p.Courses.Tombstoned(ctx, tx, in.ID); err != nil {
		return fmt.Errorf("%w: %s %v", errIgnored, in.Type, err)
	}
	if err := p.Courses.StaleRequest(ctx, tx, c.ID, in.Actor, in.Activity.Published); err != nil {
		// Not an error: StaleRequest may have used up an early Leave,
		// which must be committed.
		p.Logger.Info("activity not applied", "id", in.ID, "type", in.Type, "actor", in.Actor, "reason", err)
		return nil
	}
	actor, err := p.actorOf(in, in.Actor, false)
	if err != nil {
		return err
	}
	if flooded, err := floodedHost(ctx, tx, c.ID, actor.IRI); err != nil {
		return err
	} else if flooded {
		c.ManuallyApproves = true // new requests from that host wait for a moderator (follow_budget.go)
	}
	m, err := p.Courses.Enroll(ctx, tx, c, courses.Member{
		ActorIRI: actor.IRI, Name: actor.DisplayName(), Handle: actor.Handle(),
		Inbox: actor.Inbox, SharedInbox: actor.SharedInbox, Via: via, RequestID: in.ID,
	})
	if errors.Is(err, courses.ErrBlocked) {
		return p.answer(ctx, tx, c, in, actor, vocab.RejectType)
	}
	if err != nil {
		return err
	}
	if m.State != courses.StateAccepted {
		return nil // a moderator approves it later
	}
	return p.answer(ctx, tx, c, in, actor, vocab.AcceptType)
}

// answer sends Accept or Reject of the request in to its actor's own inbox.
func (p *Processor) answer(ctx context.Context, tx pgx.Tx, c courses.Course, in *Incoming, actor federation.RemoteActor, t vocab.ActivityVocabularyType) error {
	req := courses.Member{ActorIRI: actor.IRI, Inbox: actor.Inbox, RequestID: in.ID}
	return p.Sender.Answer(ctx, tx, c, req, in.Type, t)
}
