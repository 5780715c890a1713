package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// MaxMirroredModules bounds the syllabus a co-host mirrors of one course.
const MaxMirroredModules = 500

// FromInstance publishes act as the instance actor (/actor) to inboxes.
func (s *Sender) FromInstance(ctx context.Context, tx pgx.Tx, act *vocab.Activity, inboxes ...string) error {
	a, err := s.activity(act, s.URLs.InstanceActor(), "", inboxes)
	if err != nil {
		return err
	}
	return s.publish(ctx, tx, a)
}

// Cohost adds a course of another server (its handle or IRI) to this
// instance's catalogue, as admin by: it fetches the course and its
// syllabus from the course's origin, stores the mirror, and has the
// instance actor follow the course, so the course's activities keep the
// mirror current. Errors: the course cannot be fetched or is not a
// colearn course (a ValidationError), it is local, it is already
// co-hosted (courses.ErrAlreadyCohosted).
func (a *Actions) Cohost(ctx context.Context, by, course string) (courses.CohostedCourse, error) {
	if course = strings.TrimSpace(course); course == "" {
		return courses.CohostedCourse{}, &courses.ValidationError{Field: "course", Message: "name a course: @slug@host or its URL"}
	}
	ra, err := a.resolve(ctx, course)
	if err != nil {
		return courses.CohostedCourse{}, &courses.ValidationError{Field: "course", Message: fmt.Sprintf("cannot find %s: %v", course, err)}
	}
	if a.urls().IsLocal(ra.IRI) {
		return courses.CohostedCourse{}, &courses.ValidationError{Field: "course", Message: course + " is a course of this instance"}
	}
	doc, mods, err := a.fetchMirror(ctx, ra.IRI)
	if err != nil {
		return courses.CohostedCourse{}, &courses.ValidationError{Field: "course", Message: err.Error()}
	}
	c := a.mirrorOf(doc, ra)
	c.AddedBy, c.FollowID, c.State = by, a.urls().Activity(federation.NewID()), courses.CohostPending
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if err := a.Courses.AddCohosted(ctx, tx, c); err != nil {
			return err
		}
		if err := a.Courses.ReplaceCohostModules(ctx, tx, c.IRI, mods); err != nil {
			return err
		}
		follow := federation.NewActivity(c.FollowID, vocab.FollowType, a.urls().InstanceActor(), vocab.IRI(c.IRI), "", []string{c.IRI}, nil)
		return a.Sender.FromInstance(ctx, tx, follow, c.Inbox)
	})
	return c, err
}

// Uncohost takes a co-hosted course (handle or IRI) out of the catalogue,
// drops its mirror and sends Undo(Follow) from the instance actor. The
// enrollments of local users stay as they are.
func (a *Actions) Uncohost(ctx context.Context, course string) (courses.CohostedCourse, error) {
	iri := strings.TrimSpace(course)
	if federation.Origin(iri) == "" {
		ra, err := a.resolve(ctx, iri)
		if err != nil {
			return courses.CohostedCourse{}, &courses.ValidationError{Field: "course", Message: fmt.Sprintf("cannot find %s: %v", course, err)}
		}
		iri = ra.IRI
	}
	var c courses.CohostedCourse
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if c, err = a.Courses.RemoveCohosted(ctx, tx, iri); err != nil {
			return err
		}
		follow := vocab.ActivityNew(vocab.IRI(c.FollowID), vocab.FollowType, vocab.IRI(c.IRI))
		follow.Actor = vocab.IRI(a.urls().InstanceActor())
		undo := federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.UndoType, a.urls().InstanceActor(), follow, "", []string{c.IRI}, nil)
		return a.Sender.FromInstance(ctx, tx, undo, c.Inbox)
	})
	return c, err
}

// RefreshCohosted refetches a co-hosted course and its syllabus from the
// course's origin and replaces the mirror. When the origin cannot be
// reached the mirror is kept as it was and the failure recorded on it
// (and returned).
func (a *Actions) RefreshCohosted(ctx context.Context, iri string) error {
	cur, err := a.Courses.Cohosted(ctx, a.Pool, iri)
	if err != nil {
		return err
	}
	doc, mods, err := a.fetchMirror(ctx, iri)
	if err != nil {
		if rerr := a.Courses.CohostRefreshFailed(ctx, a.Pool, iri, err.Error()); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	c := a.mirrorOf(doc, federation.RemoteActor{IRI: iri, Inbox: cur.Inbox})
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if err := a.Courses.UpdateCohosted(ctx, tx, c); err != nil {
			return err
		}
		return a.Courses.ReplaceCohostModules(ctx, tx, iri, mods)
	})
}

// RefreshCohostedCourses refreshes up to limit co-hosted courses, the least
// recently refreshed first, one after the other (each fetch is within the
// origin host's fetch budget); it returns how many refreshed and the
// failures joined.
func (a *Actions) RefreshCohostedCourses(ctx context.Context, limit int) (int, error) {
	list, err := a.Courses.CohostedCourses(ctx, a.Pool, limit)
	if err != nil {
		return 0, err
	}
	n, errs := 0, []error(nil)
	for _, c := range list {
		if ctx.Err() != nil {
			break
		}
		if err := a.RefreshCohosted(ctx, c.IRI); err != nil {
			errs = append(errs, fmt.Errorf("refresh %s: %w", c.IRI, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// mirrorOf maps a fetched course document onto the mirror's row.
func (a *Actions) mirrorOf(doc federation.CourseDoc, ra federation.RemoteActor) courses.CohostedCourse {
	c := courses.CohostedCourse{IRI: doc.ID, Inbox: doc.Inbox, Name: doc.Name, Summary: doc.Summary,
		Language: doc.Language, Licence: doc.Licence, Tags: doc.Tags}
	if c.Inbox == "" {
		c.Inbox = ra.Inbox
	}
	if doc.Username != "" {
		c.Handle = "@" + doc.Username + "@" + hostOf(doc.ID)
	}
	if c.Name == "" {
		c.Name = c.Handle
	}
	return c
}

// fetchMirror fetches course iri and its modules from the course's origin
// (signed by the instance actor). Every document must be served from its
// own id on the course's origin; a syllabus longer than
// MaxMirroredModules is cut there.
func (a *Actions) fetchMirror(ctx context.Context, iri string) (federation.CourseDoc, []courses.CohostedModule, error) {
	f, ok := a.Resolver.(objectFetcher)
	if !ok {
		return federation.CourseDoc{}, nil, errors.New("this instance cannot fetch remote documents")
	}
	body, err := f.Object(ctx, iri)
	if err != nil {
		return federation.CourseDoc{}, nil, fmt.Errorf("the course %s: %w", iri, err)
	}
	doc, err := federation.ParseCourseDoc(body)
	if err != nil {
		return doc, nil, err
	}
	if doc.ID != iri {
		return doc, nil, fmt.Errorf("the course %s is served as %s", iri, doc.ID)
	}
	if doc.Modules == "" {
		return doc, nil, fmt.Errorf("%s is not a colearn course (it has no modules)", iri)
	}
	body, err = f.Object(ctx, doc.Modules)
	if err != nil {
		return doc, nil, fmt.Errorf("the syllabus of %s: %w", iri, err)
	}
	var col struct {
		OrderedItems []json.RawMessage `json:"orderedItems"`
	}
	if err := json.Unmarshal(body, &col); err != nil {
		return doc, nil, fmt.Errorf("the syllabus of %s: %w", iri, err)
	}
	var mods []courses.CohostedModule
	for i, item := range col.OrderedItems {
		if i == MaxMirroredModules {
			break
		}
		var miri string
		if err := json.Unmarshal(item, &miri); err != nil || !federation.SameOrigin(miri, iri) {
			return doc, nil, fmt.Errorf("the syllabus of %s lists a module that is not on its server", iri)
		}
		mb, err := f.Object(ctx, miri)
		if err != nil {
			return doc, nil, fmt.Errorf("module %s: %w", miri, err)
		}
		md, err := federation.ParseModuleDoc(mb, iri)
		if err != nil {
			return doc, nil, err
		}
		if md.ID != miri {
			return doc, nil, fmt.Errorf("module %s is served as %s", miri, md.ID)
		}
		m := a.MirrorModule(md, iri)
		m.Position = i + 1
		mods = append(mods, m)
	}
	return doc, mods, nil
}

// MirrorModule maps a module Article onto its mirrored row; the body is
// rendered here from its Markdown source when it has one.
func (a *Actions) MirrorModule(md federation.ModuleDoc, courseIRI string) courses.CohostedModule {
	content := md.Content
	if md.Source != "" {
		content = a.Courses.Content().Markdown(md.Source)
	}
	return courses.CohostedModule{IRI: md.ID, CourseIRI: courseIRI, Position: md.Position, Revision: md.Revision,
		Title: md.Name, Summary: a.Courses.Content().Sanitize(md.Summary), Content: content, Updated: md.Updated}
}
