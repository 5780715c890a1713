package outbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// RemovePost takes postIRI out of local course c's discussion, in tx, as
// the moderator named by (a local username, or the actor IRI of a remote
// moderator holding a grant): the course sends Delete of it (colearn
// instances drop their copies) and Undo of each Announce that boosted it
// (Mastodon drops the boost), and the removal is logged with reason and
// the report it settles (0 for none). The caller has checked that by may
// moderate c; it fails only when the database does.
func (s *Sender) RemovePost(ctx context.Context, tx pgx.Tx, store *courses.Store, c courses.Course, by, postIRI, reason string, reportID int64) error {
	if _, err := store.DeletePost(ctx, tx, postIRI); err != nil {
		return err
	}
	courseIRI := s.URLs.Course(c.Slug)
	act := federation.NewActivity(s.URLs.Activity(federation.NewID()), vocab.DeleteType, courseIRI,
		vocab.IRI(postIRI), courseIRI, []string{federation.Followers(courseIRI)}, []string{federation.Public})
	if err := s.FromCourse(ctx, tx, c, act, true); err != nil {
		return err
	}
	if err := s.UndoAnnounces(ctx, tx, c, postIRI); err != nil {
		return err
	}
	return store.LogModeration(ctx, tx, courses.ModAction{Actor: by, Action: courses.ModPostRemove, Target: postIRI,
		CourseIRI: courseIRI, ReportID: reportID, Reason: reason})
}

// RemoveRemotePost has u, a moderator of the remote course courseIRI by a
// grant, ask the course to take postIRI out of its discussion: u's server
// sends Remove of the post with target the course (FEDERATION.md,
// "Moderators on other servers"). The course decides: without a live
// moderator grant nothing changes. *courses.ValidationError when the post
// is not one of that course's here.
func (a *Actions) RemoveRemotePost(ctx context.Context, u courses.User, courseIRI, postIRI string) error {
	p, err := a.Courses.PostByIRI(ctx, a.Pool, postIRI)
	if err != nil {
		return fmt.Errorf("remove %s: %w", postIRI, err)
	}
	if p.CourseIRI != courseIRI {
		return &courses.ValidationError{Field: "iri", Message: "that post is not in this course's discussion"}
	}
	ra, err := a.Resolver.Actor(ctx, courseIRI, false)
	if err != nil {
		return fmt.Errorf("remove %s: %w", postIRI, err)
	}
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		return a.fromUserTo(ctx, tx, u, ra.Inbox, map[string]any{
			"id": a.urls().Activity(federation.NewID()), "type": "Remove", "actor": a.userIRI(u),
			"object": postIRI, "target": courseIRI, "to": []string{courseIRI},
		})
	})
}
