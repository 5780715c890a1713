package inbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// actorUpdate applies an Update of a remote actor (a Person, Group,
// Service… that changed its profile, inbox or keys). Only the actor itself
// may update it: an Update signed by one actor whose object is another is
// refused. The embedded document is never used: the actor is fetched
// afresh from its own id (the resolver checks and stores it), and what
// that document says now is copied onto its memberships of local courses
// and its follows of local users, so the next delivery goes to the inbox
// the actor's origin names.
func (p *Processor) actorUpdate(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if in.ObjectIRI() != in.Actor {
		return fmt.Errorf("%s may not update the actor %s: %w", in.Actor, in.ObjectIRI(), courses.ErrForbidden)
	}
	a, err := p.actorOf(in, in.Actor, true)
	if err != nil {
		return err
	}
	_, err = p.Courses.RefreshRemoteActor(ctx, tx, courses.RemoteActorChange{
		IRI: a.IRI, Name: a.DisplayName(), Handle: a.Handle(), Inbox: a.Inbox, SharedInbox: a.SharedInbox,
	})
	return err
}

// updatesActor reports whether an Update is of an actor: its object is the
// sending actor's own id, or an embedded object of an actor type.
func (in *Incoming) updatesActor() bool {
	if in.ObjectIRI() == in.Actor {
		return true
	}
	obj := in.Activity.Object
	return obj != nil && obj.IsObject() && vocab.ActorTypes.Contains(obj.GetType())
}
