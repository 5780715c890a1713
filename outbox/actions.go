package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
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
	// Domains is told when a domain block changes, so that the change
	// applies in this process at once (may be nil).
	Domains *courses.DomainPolicy
	// Credentials signs Open Badges credentials (actions_badge.go).
	Credentials *credential.Canonicalizer
	statusLists statusListCache
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
// moderator) and sends Update of the Group actor to its members. The
// Update embeds the very document a GET of the course returns
// (federation.RenderCourse), byte for byte: Mastodon rebuilds the account
// from it, so a lossy copy would drop the key, the extension terms and
// manuallyApprovesFollowers there. An edit based on an older version than
// the stored one is refused (ErrConflict).
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
		courseIRI := a.urls().Course(c.Slug)
		body, err := embedDocument(a.urls().Activity(federation.NewID()), vocab.UpdateType, courseIRI, doc,
			[]string{federation.Public}, []string{federation.Followers(courseIRI)})
		if err != nil {
			return fmt.Errorf("update of %s: %w", c.Slug, err)
		}
		return a.Sender.publish(ctx, tx, Activity{ID: body.id, Type: string(vocab.UpdateType), ActorIRI: courseIRI,
			KeyOwner: c.Slug, Body: body.json, Public: true, FollowersOf: c.ID})
	})
	return c, err
}

// embedded is an activity rendered around a document kept verbatim.
type embedded struct {
	id   string
	json []byte
}

// embedDocument renders an activity whose object is doc exactly as given
// (its own @context included), under the same @context, so that the
// object parses to the same JSON as doc.
func embedDocument(id string, t vocab.ActivityVocabularyType, actor string, doc []byte, to, cc []string) (embedded, error) {
	var head struct {
		Context json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(doc, &head); err != nil || len(head.Context) == 0 {
		return embedded{}, fmt.Errorf("document without @context: %v", err)
	}
	body, err := json.Marshal(struct {
		Context json.RawMessage `json:"@context"`
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Actor   string          `json:"actor"`
		To      []string        `json:"to,omitempty"`
		CC      []string        `json:"cc,omitempty"`
		Object  json.RawMessage `json:"object"`
	}{head.Context, id, string(t), actor, to, cc, doc})
	return embedded{id: id, json: body}, err
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

// Block removes actorIRI from c and keeps it out, as moderator u. A
// remote member's Follow or Join is answered with Reject, so their server
// stops showing them as following the course; a co-hosting instance actor
// stops co-hosting it. The block is logged.
func (a *Actions) Block(ctx context.Context, u courses.User, c courses.Course, actorIRI string) error {
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		return a.block(ctx, tx, u.Username, a.userIRI(u), c, actorIRI, "", 0)
	})
}

// block blocks actorIRI from c as the moderator byIRI (named by), rejects
// their Follow or Join and logs it.
func (a *Actions) block(ctx context.Context, tx pgx.Tx, by, byIRI string, c courses.Course, actorIRI, reason string, reportID int64) error {
	prev, err := a.Courses.MemberOf(ctx, tx, c.ID, actorIRI)
	wasMember := err == nil
	if err != nil && !errors.Is(err, courses.ErrNotFound) {
		return err
	}
	if byIRI == "" { // an admin, whose right the caller checked
		err = courses.BlockMember(ctx, tx, c.ID, actorIRI)
	} else {
		err = a.Courses.Block(ctx, tx, c.ID, actorIRI, byIRI)
	}
	if err != nil {
		return err
	}
	if wasMember && prev.UserID == 0 && prev.State != courses.StateBlocked {
		if err := a.reject(ctx, tx, c, prev); err != nil {
			return err
		}
	}
	if _, err := a.Courses.RemoveCohost(ctx, tx, c.ID, actorIRI); err != nil { // a co-host blocked stops co-hosting
		return err
	}
	return a.Courses.LogModeration(ctx, tx, courses.ModAction{Actor: by, Action: courses.ModMemberBlock, Target: actorIRI,
		CourseIRI: a.urls().Course(c.Slug), ReportID: reportID, Reason: reason})
}

// reject sends the course's Reject of a remote member's Follow or Join, when
// there is a request to reject and an inbox to send it to.
func (a *Actions) reject(ctx context.Context, tx pgx.Tx, c courses.Course, m courses.Member) error {
	if m.RequestID == "" || m.Inbox == "" {
		return nil
	}
	reqType := "Follow"
	if m.Via == "join" {
		reqType = "Join"
	}
	return a.Sender.Answer(ctx, tx, c, m, reqType, vocab.RejectType)
}

// JoinRemote asks a course on another server, named by its IRI or its
// @slug@host handle, to enroll local user u: it records the request and
// sends Join to a colearn course, Follow to any other Group (Lemmy and its
// kin; actions_group.go). The group's Accept completes it.
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
		act, via := a.enrollRequest(id, u, ra)
		if err := a.Courses.RequestEnrollmentVia(ctx, tx, u.ID, ra.IRI, id, via); err != nil {
			return err
		}
		return a.Sender.FromUser(ctx, tx, u, act, ra.Inbox)
	})
	return ra, err
}

// LeaveRemote ends u's membership of a remote course and sends Leave (or,
// to a group followed with Follow, Undo of that Follow).
func (a *Actions) LeaveRemote(ctx context.Context, u courses.User, courseIRI string) error {
	ra, err := a.Resolver.Actor(ctx, courseIRI, false)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		e, err := a.Courses.Enrollment(ctx, tx, u.ID, courseIRI)
		if err != nil {
			return err
		}
		if err := a.Courses.EndEnrollment(ctx, tx, u.ID, courseIRI); err != nil {
			return err
		}
		return a.Sender.FromUser(ctx, tx, u, a.leaveRequest(u, e), ra.Inbox)
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
	ra, err := a.remoteGroup(ctx, q, u, courseIRI)
	return ra.Inbox, err
}

// remoteGroup returns the remote course (or other group) u is an accepted
// member of.
func (a *Actions) remoteGroup(ctx context.Context, q courses.Querier, u courses.User, courseIRI string) (federation.RemoteActor, error) {
	e, err := a.Courses.Enrollment(ctx, q, u.ID, courseIRI)
	if err != nil || e.State != courses.StateAccepted {
		return federation.RemoteActor{}, fmt.Errorf("post in %s: %w", courseIRI, ErrNotEnrolled)
	}
	return a.Resolver.Actor(ctx, courseIRI, false)
}
