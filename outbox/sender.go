package outbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// Publisher stores an activity and schedules its delivery inside a
// transaction; *Outbox is one.
type Publisher interface {
	Publish(ctx context.Context, tx pgx.Tx, a Activity) error
}

// Sender publishes activities on behalf of local courses and users: it
// renders them as JSON-LD and hands them to the outbox with their
// recipients. Both the inbox (activities that answer or relay what arrived)
// and local actions (what people do on the web pages) send through it.
type Sender struct {
	Outbox Publisher
	URLs   federation.URLs
}

// FromCourse publishes act as the course c to its accepted remote members
// (when followers is set) and to inboxes.
func (s *Sender) FromCourse(ctx context.Context, tx pgx.Tx, c courses.Course, act *vocab.Activity, followers bool, inboxes ...string) error {
	a, err := s.activity(act, s.URLs.Course(c.Slug), c.Slug, inboxes)
	if err != nil {
		return err
	}
	if followers {
		a.FollowersOf = c.ID
	}
	return s.publish(ctx, tx, a)
}

// FromUser publishes act as the local user u to inboxes.
func (s *Sender) FromUser(ctx context.Context, tx pgx.Tx, u courses.User, act *vocab.Activity, inboxes ...string) error {
	a, err := s.activity(act, s.URLs.User(u.Username), u.Username, inboxes)
	if err != nil {
		return err
	}
	return s.publish(ctx, tx, a)
}

func (s *Sender) activity(act *vocab.Activity, actorIRI, keyOwner string, inboxes []string) (Activity, error) {
	body, err := federation.Document(act)
	if err != nil {
		return Activity{}, fmt.Errorf("render %s: %w", act.Type, err)
	}
	public := false
	for _, r := range append(append(vocab.ItemCollection{}, act.To...), act.CC...) {
		if r.GetLink().String() == federation.Public {
			public = true
		}
	}
	return Activity{ID: act.ID.String(), Type: string(act.Type), ActorIRI: actorIRI, KeyOwner: keyOwner,
		Body: body, Public: public, Inboxes: inboxes}, nil
}

func (s *Sender) publish(ctx context.Context, tx pgx.Tx, a Activity) error {
	if err := s.Outbox.Publish(ctx, tx, a); err != nil {
		return fmt.Errorf("publish %s %s: %w", a.Type, a.ID, err)
	}
	return nil
}

// AnnounceToMembers has the course boost object (a post's IRI, or an
// embedded Update or Delete) to its members, with audience = the course
// (FEP-1b12). Replies and edits go only to members who joined from colearn
// instances, which render whole threads; top-level posts and lessons go to
// everyone, Mastodon followers included. Boosting every reply into home
// timelines floods them, which Lemmy learnt the hard way.
func (s *Sender) AnnounceToMembers(ctx context.Context, tx pgx.Tx, c courses.Course, object vocab.Item, everyone bool) error {
	courseIRI, act := s.announcement(c, object)
	if object.IsLink() { // a boost of a post: remembered, to be undone by its id (undo_announce.go)
		if err := courses.RecordAnnounce(ctx, tx, c.ID, object.GetLink().String(), act.ID.String()); err != nil {
			return err
		}
	}
	a, err := s.activity(act, courseIRI, c.Slug, nil)
	if err != nil {
		return err
	}
	a.FollowersOf = c.ID
	if !everyone {
		// Nothing is published when no member came from colearn.
		if inboxes, err := courses.MemberInboxesVia(ctx, tx, c.ID, "join"); err != nil || len(inboxes) == 0 {
			return err
		}
		a.FollowersVia = "join"
	}
	return s.publish(ctx, tx, a)
}

// announcement is the course c's Announce of object, addressed to its
// followers and the public, with audience = the course.
func (s *Sender) announcement(c courses.Course, object vocab.Item) (courseIRI string, act *vocab.Activity) {
	courseIRI = s.URLs.Course(c.Slug)
	act = federation.NewActivity(s.URLs.Activity(federation.NewID()), vocab.AnnounceType, courseIRI, object,
		courseIRI, []string{federation.Followers(courseIRI)}, []string{federation.Public})
	// Mastodon dates the boost by it.
	act.Published = now()
	return courseIRI, act
}

// Answer publishes the course's Accept or Reject of a Follow or Join to the
// requester's own inbox. The request is embedded, since Mastodon matches
// the answer by the request's id.
func (s *Sender) Answer(ctx context.Context, tx pgx.Tx, c courses.Course, req courses.Member, requestType string, t vocab.ActivityVocabularyType) error {
	courseIRI := s.URLs.Course(c.Slug)
	request := vocab.ActivityNew(vocab.IRI(req.RequestID), vocab.ActivityVocabularyType(requestType), vocab.IRI(courseIRI))
	request.Actor = vocab.IRI(req.ActorIRI)
	act := federation.NewActivity(s.URLs.Activity(federation.NewID()), t, courseIRI, request, "", []string{req.ActorIRI}, nil)
	return s.FromCourse(ctx, tx, c, act, false, req.Inbox)
}
