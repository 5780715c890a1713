package inbox

import (
	"context"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// followUser records a remote actor's Follow of a local user and answers
// it with an Accept from the user, signed with the user's key, to the
// follower's own inbox (Mastodon shows "Requested" until it comes). The
// follower's inboxes come from its own document, fetched from its origin.
// A Follow undone before it arrived (its Undo overtook it) is dropped;
// blocked servers never get this far (the inbox answers them 403).
func (p *Processor) followUser(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	u, ok, err := p.localUser(ctx, in.ObjectIRI())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: Follow of %s, which is no course or user here", errIgnored, in.ObjectIRI())
	}
	if err := p.Courses.Tombstoned(ctx, tx, in.ID); err != nil {
		return fmt.Errorf("%w: %s %v", errIgnored, in.Type, err)
	}
	actor, err := p.actorOf(in, in.Actor, false)
	if err != nil {
		return err
	}
	f, err := p.Courses.FollowUser(ctx, tx, u, courses.UserFollower{
		ActorIRI: actor.IRI, Inbox: actor.Inbox, SharedInbox: actor.SharedInbox, RequestID: in.ID,
	})
	if err != nil {
		return err
	}
	return p.Sender.AnswerFollow(ctx, tx, u, f, vocab.AcceptType)
}

// undoUserFollow ends a follow of a local user that an Undo names, by the
// Follow's id or, when the Follow is embedded with another id (some
// servers make up a new one), by the user it followed. done is false when
// the Undo is about something else.
func (p *Processor) undoUserFollow(ctx context.Context, tx pgx.Tx, in *Incoming) (done bool, err error) {
	var userID int64
	if obj := in.Activity.Object; obj.IsObject() {
		if inner, ierr := vocab.ToActivity(obj); ierr == nil && inner.Type == vocab.FollowType && inner.Object != nil &&
			inner.Actor != nil && inner.Actor.GetLink().String() == in.Actor {
			u, ok, uerr := p.localUser(ctx, inner.Object.GetLink().String())
			if uerr != nil {
				return true, uerr
			}
			if ok {
				userID = u.ID
			}
		}
	}
	_, err = p.Courses.UnfollowUser(ctx, tx, in.Actor, in.ObjectIRI(), userID)
	switch {
	case errors.Is(err, courses.ErrNotFound):
		return userID != 0, nil // an Undo of a follow of a user that is gone already: the tombstone covers it
	case err != nil:
		return true, err
	}
	return true, nil
}
