package outbox

import (
	"context"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// UndoAnnounces has the course c take back every boost it made of postIRI:
// one Undo(Announce) per recorded Announce, naming it by its id and
// embedding it, to every member (Mastodon followers included, since they
// saw the boost). Mastodon ignores a Delete whose actor is not the post's
// author, but drops a boost on its booster's Undo. Each Announce is undone
// once, however often this runs.
func (s *Sender) UndoAnnounces(ctx context.Context, tx pgx.Tx, c courses.Course, postIRI string) error {
	ids, err := courses.TakeAnnounces(ctx, tx, c.ID, postIRI)
	if err != nil {
		return err
	}
	courseIRI := s.URLs.Course(c.Slug)
	for _, id := range ids {
		announce := federation.NewActivity(id, vocab.AnnounceType, courseIRI, vocab.IRI(postIRI), courseIRI,
			[]string{federation.Followers(courseIRI)}, []string{federation.Public})
		undo := federation.NewActivity(s.URLs.Activity(federation.NewID()), vocab.UndoType, courseIRI, announce, courseIRI,
			[]string{federation.Followers(courseIRI)}, []string{federation.Public})
		if err := s.FromCourse(ctx, tx, c, undo, true); err != nil {
			return err
		}
	}
	return nil
}
