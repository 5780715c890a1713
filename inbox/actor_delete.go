package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// actorDelete applies a remote actor's Delete of itself (object = actor,
// signed by it): it leaves every local course, stops following local
// users, its posts are hidden, and the boosts local courses made of them
// are undone (for Mastodon followers). The Delete alone proves nothing: the
// actor's origin is asked, and only a 404, 410 or Tombstone there lets it
// through. A Delete of an actor its origin still serves changes nothing.
func (p *Processor) actorDelete(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	_, err := p.remoteObject(in, in.Actor)
	var need *needFetch
	switch {
	case errors.As(err, &need):
		return err
	case err == nil:
		return fmt.Errorf("Delete of %s, which its origin still serves: %w", in.Actor, courses.ErrForbidden)
	case !errors.Is(err, federation.ErrGone):
		return err // the origin could not be asked: tried again later
	}
	posts, err := p.Courses.ForgetActor(ctx, tx, in.Actor)
	if err != nil {
		return err
	}
	for _, post := range posts {
		c, ok, err := p.localCourse(ctx, post.CourseIRI)
		if err != nil {
			return err
		}
		if ok {
			if err := p.Sender.UndoAnnounces(ctx, tx, c, post.IRI); err != nil {
				return err
			}
		}
	}
	return nil
}
