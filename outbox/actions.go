package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// ActorResolver finds remote actors, for actions aimed at other servers.
type ActorResolver interface {
	Actor(ctx context.Context, iri string, refresh bool) (federation.RemoteActor, error)
	Handle(ctx context.Context, handle string) (federation.RemoteActor, error)
}

// Actions are what people do on this instance (through the web pages or the
// CLI): each runs the domain rule and publishes the activities it causes in
// one transaction, so that either both happen or neither does.
type Actions struct {
	Pool     *pgxpool.Pool
	Courses  *courses.Store
	Keys     *federation.KeyStore
	Sender   *Sender
	Resolver ActorResolver
	// ModuleChangedFunc is told the slug of a course whose syllabus changed,
	// so cached documents can be dropped (may be nil).
	ModuleChangedFunc func(slug string)
}

func (a *Actions) urls() federation.URLs { return a.Sender.URLs }

func (a *Actions) userIRI(u courses.User) string { return a.urls().User(u.Username) }

// CreateCourse makes a course owned by u, with the keys of its Group actor.
func (a *Actions) CreateCourse(ctx context.Context, u courses.User, d courses.CourseDraft) (courses.Course, error) {
	var c courses.Course
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if c, err = a.Courses.CreateCourse(ctx, tx, u, a.userIRI(u), d); err != nil {
			return err
		}
		_, err = a.Keys.Create(ctx, tx, c.Slug)
		return err
	})
	return c, err
}

// UpdateCourse applies an edit of a course's metadata by u (owner or
// moderator) and sends Update of the Group actor to its members. An edit
// based on an older version than the stored one is refused (ErrConflict).
func (a *Actions) UpdateCourse(ctx context.Context, u courses.User, courseID int64, baseVersion int, d courses.CourseDraft) (courses.Course, error) {
	var c courses.Course
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if c, err = a.Courses.UpdateCourse(ctx, tx, courseID, a.userIRI(u), baseVersion, d); err != nil {
			return err
		}
		doc, err := a.CourseDocument(ctx, tx, c)
		if err != nil {
			return err
		}
		group, err := vocab.UnmarshalJSON(doc)
		if err != nil {
			return err
		}
		courseIRI := a.urls().Course(c.Slug)
		act := federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.UpdateType, courseIRI, group, "",
			[]string{federation.Public}, []string{federation.Followers(courseIRI)})
		return a.Sender.FromCourse(ctx, tx, c, act, true)
	})
	return c, err
}

// CourseDocument renders a local course's Group actor.
func (a *Actions) CourseDocument(ctx context.Context, q courses.Querier, c courses.Course) ([]byte, error) {
	return federation.RenderCourse(ctx, a.urls(), a.Courses, q, a.Keys, c)
}

// Enroll makes local user u a learner of local course c.
func (a *Actions) Enroll(ctx context.Context, u courses.User, c courses.Course) (courses.Member, error) {
	return a.Courses.Enroll(ctx, a.Pool, c, courses.Member{
		ActorIRI: a.userIRI(u), UserID: u.ID, Name: u.DisplayName, Handle: u.Username, Via: "local",
	})
}

// Leave ends local user u's membership of local course c.
func (a *Actions) Leave(ctx context.Context, u courses.User, c courses.Course) error {
	_, err := a.Courses.Unenroll(ctx, a.Pool, c.ID, a.userIRI(u))
	return err
}

// Approve accepts a pending member of c, as moderator u, and sends the
// course's Accept of their Follow or Join.
func (a *Actions) Approve(ctx context.Context, u courses.User, c courses.Course, actorIRI string) error {
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		m, err := a.Courses.Approve(ctx, tx, c.ID, actorIRI, a.userIRI(u))
		if err != nil || m.UserID != 0 {
			return err
		}
		reqType := "Follow"
		if m.Via == "join" {
			reqType = "Join"
		}
		return a.Sender.Answer(ctx, tx, c, m, reqType, vocab.AcceptType)
	})
}

// Block removes actorIRI from c and keeps it out, as moderator u.
func (a *Actions) Block(ctx context.Context, u courses.User, c courses.Course, actorIRI string) error {
	return a.Courses.Block(ctx, a.Pool, c.ID, actorIRI, a.userIRI(u))
}

// JoinRemote asks a course on another server, named by its IRI or its
// @slug@host handle, to enroll local user u: it records the request and
// sends Join to the course. The course's Accept completes it.
func (a *Actions) JoinRemote(ctx context.Context, u courses.User, course string) (federation.RemoteActor, error) {
	ra, err := a.resolve(ctx, course)
	if err != nil {
		return federation.RemoteActor{}, err
	}
	if ra.Type != string(vocab.GroupType) {
		return federation.RemoteActor{}, &courses.ValidationError{Field: "course", Message: ra.Handle() + " is not a course"}
	}
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		id := a.urls().Activity(federation.NewID())
		if err := a.Courses.RequestEnrollment(ctx, tx, u.ID, ra.IRI, id); err != nil {
			return err
		}
		act := federation.NewActivity(id, vocab.JoinType, a.userIRI(u), vocab.IRI(ra.IRI), "", []string{ra.IRI}, nil)
		return a.Sender.FromUser(ctx, tx, u, act, ra.Inbox)
	})
	return ra, err
}

// LeaveRemote ends u's membership of a remote course and sends Leave.
func (a *Actions) LeaveRemote(ctx context.Context, u courses.User, courseIRI string) error {
	ra, err := a.Resolver.Actor(ctx, courseIRI, false)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if err := a.Courses.EndEnrollment(ctx, tx, u.ID, courseIRI); err != nil {
			return err
		}
		act := federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.LeaveType, a.userIRI(u), vocab.IRI(courseIRI), "", []string{courseIRI}, nil)
		return a.Sender.FromUser(ctx, tx, u, act, ra.Inbox)
	})
}

func (a *Actions) resolve(ctx context.Context, course string) (federation.RemoteActor, error) {
	if federation.Origin(course) != "" {
		return a.Resolver.Actor(ctx, course, false)
	}
	return a.Resolver.Handle(ctx, course)
}

// ErrNotEnrolled means the user is not an accepted member of the course.
var ErrNotEnrolled = errors.New("not enrolled in this course")

// now is the time stamped on posts and edits, in whole seconds: the precision
// ActivityStreams timestamps travel with.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// remoteCourseInbox returns the inbox of a remote course u is enrolled in.
func (a *Actions) remoteCourseInbox(ctx context.Context, q courses.Querier, u courses.User, courseIRI string) (string, error) {
	e, err := a.Courses.Enrollment(ctx, q, u.ID, courseIRI)
	if err != nil || e.State != courses.StateAccepted {
		return "", fmt.Errorf("post in %s: %w", courseIRI, ErrNotEnrolled)
	}
	ra, err := a.Resolver.Actor(ctx, courseIRI, false)
	if err != nil {
		return "", err
	}
	return ra.Inbox, nil
}
