package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// actorMove applies Move (object = the old account, which must be the
// signed actor; target = the new account), as Mastodon sends it when an
// account migrates. It is believed only when the new account's own
// document, fetched from its origin, lists the old one in alsoKnownAs.
// The move is recorded and shown ("moved to …"); memberships and follows
// stay as they are, for the new account to follow by itself.
func (p *Processor) actorMove(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if in.ObjectIRI() != in.Actor {
		return fmt.Errorf("%s may not move %s: %w", in.Actor, in.ObjectIRI(), courses.ErrForbidden)
	}
	target := in.rawString("target")
	if target == "" && in.Activity.Target != nil {
		target = in.Activity.Target.GetLink().String()
	}
	if target == "" || target == in.Actor || federation.Origin(target) == "" {
		return fmt.Errorf("%w: Move without a target account", ErrMalformed)
	}
	if _, err := p.remoteObject(in, target); err != nil {
		return err
	}
	moved, err := federation.ParseActor(in.fetched[target].body, target)
	if err != nil {
		return fmt.Errorf("%w: Move target %s: %v", ErrMalformed, target, err)
	}
	if !slices.Contains(alsoKnownAs(in.fetched[target].body), in.Actor) {
		return fmt.Errorf("Move to %s, whose alsoKnownAs does not list %s: %w", moved.IRI, in.Actor, courses.ErrForbidden)
	}
	return p.Courses.RecordMove(ctx, tx, courses.Move{ActorIRI: in.Actor, MovedTo: moved.IRI, ActivityID: in.ID})
}

// alsoKnownAs reads an actor document's alsoKnownAs, one IRI or a list.
func alsoKnownAs(doc []byte) []string {
	var d struct {
		AKA json.RawMessage `json:"alsoKnownAs"`
	}
	if json.Unmarshal(doc, &d) != nil || len(d.AKA) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(d.AKA, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(d.AKA, &many)
	return many
}
