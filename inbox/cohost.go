package inbox

import (
	"context"
	"errors"

	vocab "github.com/go-ap/activitypub"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

// Co-hosting, both sides (FEDERATION.md, "Co-hosting"):
//
//   - on the course's instance, a Follow of a local course by another
//     instance's actor (Application; one per host) records a co-host and
//     is accepted; it enrolls no learner. Its Undo ends the co-hosting, as
//     do a course block of the actor, a domain block of its host, its
//     Delete and a gone inbox.
//   - on the co-host, the course's Accept or Reject of the instance actor's
//     Follow, and the course's own Update of its Group and Create, Update
//     and Delete of its modules keep the mirror current. They are taken only
//     from the co-hosted course's actor itself (the signature proves the
//     sender), and only about objects on the course's origin.

// cohostFollow accepts a co-hosting instance's Follow of local course c.
// It reports false (and does nothing) when the follower is not an
// instance actor (type Application, as colearn's and Mastodon's are; a
// Service is a bot account and follows as a learner), so the Follow
// enrolls a learner as usual. A co-host's Follow passes the learner's
// checks: one undone before it arrived or older than the actor's last
// Leave is dropped; an actor blocked in the course, or a second instance
// actor of a host that already co-hosts the course, is answered Reject and
// nothing is recorded. (A blocked server's requests never get here: the
// inbox answers them 403.)
func (p *Processor) cohostFollow(ctx context.Context, tx pgx.Tx, in *Incoming, c courses.Course) (bool, error) {
	if err := p.Courses.Tombstoned(ctx, tx, in.ID); err != nil {
		return false, nil // enroll drops it, before any fetch
	}
	actor, err := p.actorOf(in, in.Actor, false)
	if err != nil {
		return false, err
	}
	if actor.Type != string(vocab.ApplicationType) {
		return false, nil
	}
	if err := p.Courses.StaleRequest(ctx, tx, c.ID, in.Actor, in.Activity.Published); err != nil {
		p.Logger.Info("co-host follow not applied", "id", in.ID, "actor", in.Actor, "reason", err)
		return true, nil // as enroll: an early Leave used up must be committed
	}
	if m, err := p.Courses.MemberOf(ctx, tx, c.ID, actor.IRI); err == nil && m.State == courses.StateBlocked {
		return true, p.answer(ctx, tx, c, in, actor, vocab.RejectType)
	} else if err != nil && !errors.Is(err, courses.ErrNotFound) {
		return true, err
	}
	err = p.Courses.AddCohost(ctx, tx, courses.Cohost{CourseID: c.ID, InstanceIRI: actor.IRI,
		Inbox: actor.Inbox, SharedInbox: actor.SharedInbox, FollowID: in.ID})
	if errors.Is(err, courses.ErrCohostTaken) {
		p.Logger.Warn("co-host follow refused", "id", in.ID, "actor", in.Actor, "reason", err)
		return true, p.answer(ctx, tx, c, in, actor, vocab.RejectType)
	}
	if err != nil {
		return true, err
	}
	return true, p.answer(ctx, tx, c, in, actor, vocab.AcceptType)
}

// cohost handles what co-hosting adds to an activity before the usual
// handler of its type runs; done means the activity is fully applied.
func (p *Processor) cohost(ctx context.Context, tx pgx.Tx, in *Incoming) (done bool, err error) {
	switch in.Type {
	case "Accept", "Reject":
		state := courses.CohostAccepted
		if in.Type == "Reject" {
			state = courses.CohostRejected
		}
		return p.Courses.SetCohostState(ctx, tx, in.Actor, in.ObjectIRI(), state)
	case "Undo":
		_, err := p.Courses.RemoveCohostFollow(ctx, tx, in.Actor, in.ObjectIRI())
		return false, err
	case "Announce":
		return false, p.recordRelay(ctx, tx, in)
	case "Create", "Update", "Delete":
	default:
		return false, nil
	}
	course, ok, err := p.mirroredCourse(ctx, tx, in)
	if err != nil || !ok {
		return false, err
	}
	if err := p.applyMirror(ctx, tx, in, course); err != nil {
		return true, err
	}
	// The course's lessons are kept for enrolled users too (create.go,
	// update.go, delete.go): run that in a savepoint of its own, so that
	// its refusal does not undo the mirror's update.
	if enrolled, err := p.Courses.HasEnrollments(ctx, tx, in.Actor); err != nil || !enrolled {
		return true, err
	}
	return true, p.alsoApply(ctx, tx, in)
}

// mirroredCourse finds the co-hosted course an activity speaks about (the
// Group it updates, or the course named as a module's context), and
// accepts it only when the activity's actor is that course: nobody else,
// whatever their origin or what their objects claim, changes the mirror.
func (p *Processor) mirroredCourse(ctx context.Context, tx pgx.Tx, in *Incoming) (courses.CohostedCourse, bool, error) {
	var obj struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Context string `json:"context"`
	}
	_ = jsonv2.Unmarshal(in.raw["object"], &obj) // exact names, as go-ap reads them; an object by reference leaves it empty
	claimed := in.Actor                          // a Delete by IRI: the module's stored course decides
	switch {
	case obj.Type == "Group":
		claimed = obj.ID
	case obj.Context != "":
		claimed = obj.Context
	}
	c, err := p.Courses.Cohosted(ctx, tx, claimed)
	if errors.Is(err, courses.ErrNotFound) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if claimed != in.Actor {
		p.Logger.Warn("mirror update refused: not from the course", "id", in.ID, "actor", in.Actor, "course", claimed)
		return c, false, nil
	}
	return c, true, nil
}

// applyMirror updates the mirror of course c from its own activity.
func (p *Processor) applyMirror(ctx context.Context, tx pgx.Tx, in *Incoming, c courses.CohostedCourse) error {
	objIRI := in.ObjectIRI()
	if !federation.SameOrigin(objIRI, c.IRI) {
		return nil // not the course's to say
	}
	switch {
	case in.Type == "Update" && objIRI == c.IRI:
		doc, err := federation.ParseCourseDoc(in.raw["object"])
		if err != nil || doc.ID != c.IRI {
			return nil // an Update by reference: the periodic refetch brings it
		}
		next := c
		next.Name, next.Summary, next.Language, next.Licence, next.Tags = doc.Name, doc.Summary, doc.Language, doc.Licence, doc.Tags
		if doc.Name == "" {
			next.Name = c.Handle
		}
		return p.Courses.UpdateCohosted(ctx, tx, next)
	case in.Type == "Delete" && objIRI == c.IRI:
		return nil // the course itself: its Delete is the usual handler's
	case in.Type == "Delete":
		// The tombstone keeps a late Create (a retry) from bringing it back.
		if err := p.Courses.Tombstone(ctx, tx, objIRI, c.IRI); err != nil {
			return err
		}
		return p.Courses.DeleteCohostModule(ctx, tx, c.IRI, objIRI)
	default: // Create or Update of a module
		if !in.objectEmbedded() {
			return nil
		}
		md, err := federation.ParseModuleDoc(in.raw["object"], c.IRI)
		if err != nil {
			return nil
		}
		if err := p.Courses.Tombstoned(ctx, tx, md.ID); errors.Is(err, courses.ErrTombstoned) {
			return nil // deleted before
		} else if err != nil {
			return err
		}
		m := courses.CohostedModule{IRI: md.ID, CourseIRI: c.IRI, Position: md.Position, Revision: md.Revision,
			Title: md.Name, Summary: p.Courses.Content().Sanitize(md.Summary), Content: md.Content, Updated: md.Updated}
		if md.Source != "" {
			m.Content = p.Courses.Content().Markdown(md.Source)
		}
		// Older revisions change nothing; a syllabus already as long as a
		// refetch takes gets no new module.
		stored, err := p.Courses.SaveCohostModuleWithin(ctx, tx, m, outbox.MaxMirroredModules)
		if err == nil && !stored {
			p.Logger.Info("module not mirrored: older, or the syllabus is full", "id", in.ID, "module", m.IRI)
		}
		return err
	}
}

// alsoApply runs the usual handler of in's type in a savepoint: a refusal
// there is logged and rolled back alone; a fetch it needs, or a passing
// failure, ends the whole activity to be applied again.
func (p *Processor) alsoApply(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	switch in.Type {
	case "Create":
		err = p.create(ctx, sp, in)
	case "Update":
		err = p.update(ctx, sp, in)
	case "Delete":
		err = p.delete(ctx, sp, in)
	}
	var nf *needFetch
	if err == nil {
		return sp.Commit(ctx)
	}
	_ = sp.Rollback(ctx)
	if errors.As(err, &nf) || transient(err) {
		return err
	}
	p.Logger.Info("activity applied to the mirror only", "id", in.ID, "type", in.Type, "reason", err)
	return nil
}

// recordRelay notes that a remote course announced a post written here in
// it: the post has reached the course (the web pages stop showing it as
// pending).
func (p *Processor) recordRelay(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	postIRI := in.ObjectIRI()
	if !p.URLs.IsLocal(postIRI) {
		return nil
	}
	cur, err := p.Courses.PostByIRI(ctx, tx, postIRI)
	if errors.Is(err, courses.ErrNotFound) {
		return nil
	}
	if err != nil || cur.CourseIRI != in.Actor {
		return err
	}
	_, err = courses.RecordRelay(ctx, tx, postIRI, in.ID)
	if err != nil {
		return err
	}
	return p.Courses.Changed(ctx, tx, courses.PostScope(postIRI))
}
