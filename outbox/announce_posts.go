package outbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// Boost is a top-level post that a local course announces to all its
// members, for AnnouncePosts.
type Boost struct {
	Course  courses.Course
	PostIRI string
}

// AnnouncePosts is AnnounceToMembers(ctx, tx, b.Course, b.PostIRI, true)
// for each of boosts, at a cost that does not grow with their number: the
// boosts are remembered in one statement (courses.RecordAnnounces) and the
// Announces stored in one more, with their fan-out jobs enqueued together
// (PublishAll). Each Announce is the one AnnounceToMembers would send,
// byte for byte but for its fresh id and time. If the transaction rolls
// back, nothing of it is stored or delivered; it fails when rendering or
// the database does.
func (s *Sender) AnnouncePosts(ctx context.Context, tx pgx.Tx, boosts []Boost) error {
	if len(boosts) == 0 {
		return nil
	}
	records := make([]courses.Announce, len(boosts))
	acts := make([]Activity, len(boosts))
	for i, b := range boosts {
		courseIRI, act := s.announcement(b.Course, vocab.IRI(b.PostIRI))
		records[i] = courses.Announce{AnnounceID: act.ID.String(), PostIRI: b.PostIRI, CourseID: b.Course.ID}
		a, err := s.activity(act, courseIRI, b.Course.Slug, nil)
		if err != nil {
			return err
		}
		a.FollowersOf = b.Course.ID
		acts[i] = a
	}
	if err := courses.RecordAnnounces(ctx, tx, records); err != nil {
		return err
	}
	if many, ok := s.Outbox.(batchPublisher); ok {
		if err := many.PublishAll(ctx, tx, acts); err != nil {
			return fmt.Errorf("publish %d announces: %w", len(acts), err)
		}
		return nil
	}
	for _, a := range acts {
		if err := s.publish(ctx, tx, a); err != nil {
			return err
		}
	}
	return nil
}

// batchPublisher is a Publisher that stores many activities in one
// statement (*Outbox).
type batchPublisher interface {
	PublishAll(ctx context.Context, tx pgx.Tx, as []Activity) error
}
