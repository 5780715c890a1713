package outbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// ModuleAuthor is how local user u is credited in a module's history.
func (a *Actions) ModuleAuthor(u courses.User) courses.Author {
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	return courses.Author{IRI: a.userIRI(u), Name: name, Server: a.urls().Base()}
}

// AddModule appends a module to local course c as u (an author) and sends
// Create of its Article from the course to every member and follower.
func (a *Actions) AddModule(ctx context.Context, u courses.User, c courses.Course, d courses.ModuleDraft) (courses.Module, error) {
	var m courses.Module
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if m, err = a.Courses.AddModule(ctx, tx, c.ID, a.ModuleAuthor(u), d); err != nil {
			return err
		}
		return a.publishModule(ctx, tx, c, m, vocab.CreateType)
	})
	if err == nil {
		a.moduleChanged(c)
	}
	return m, err
}

// EditModule replaces module moduleID of c with d as a new revision by u,
// based on revision base (0: the current one), and sends Update of the
// Article. An edit based on a revision whose text has changed since is
// refused with *courses.ConflictError (naming the current revision); the
// refused text is kept (courses.Store.RefusedEdits) so nothing is lost.
func (a *Actions) EditModule(ctx context.Context, u courses.User, c courses.Course, moduleID int64, base int, d courses.ModuleDraft) (courses.Module, error) {
	m, err := a.changeModule(ctx, c, moduleID, func(tx pgx.Tx) (courses.Module, error) {
		return a.Courses.EditModule(ctx, tx, moduleID, a.ModuleAuthor(u), base, d)
	})
	if err != nil {
		if _, recErr := a.Courses.RecordConflict(ctx, a.Pool, a.userIRI(u), d, err); recErr != err && recErr != nil {
			return m, fmt.Errorf("%w (and keeping the refused text failed: %v)", err, recErr)
		}
	}
	return m, err
}

// RestoreRevision makes revision number the current content of module
// moduleID of c again, as a new revision by u, and sends Update.
func (a *Actions) RestoreRevision(ctx context.Context, u courses.User, c courses.Course, moduleID int64, number, base int) (courses.Module, error) {
	return a.changeModule(ctx, c, moduleID, func(tx pgx.Tx) (courses.Module, error) {
		return a.Courses.RestoreRevision(ctx, tx, moduleID, a.ModuleAuthor(u), number, base)
	})
}

// RetireModule takes module moduleID out of c's syllabus as u and sends
// Delete of the Article (a Tombstone) from the course.
func (a *Actions) RetireModule(ctx context.Context, u courses.User, c courses.Course, moduleID int64) (courses.Module, error) {
	return a.changeModule(ctx, c, moduleID, func(tx pgx.Tx) (courses.Module, error) {
		return a.Courses.RetireModule(ctx, tx, moduleID, a.ModuleAuthor(u))
	})
}

// MoveModule moves module moduleID of c one place up (delta -1) or down
// (+1) as u, and sends Update of both modules that changed places.
func (a *Actions) MoveModule(ctx context.Context, u courses.User, c courses.Course, moduleID int64, delta int) error {
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if _, err := a.Courses.ModuleOf(ctx, tx, c.ID, moduleID); err != nil {
			return err
		}
		moved, err := a.Courses.MoveModule(ctx, tx, moduleID, a.ModuleAuthor(u), delta)
		if err != nil {
			return err
		}
		for _, m := range moved {
			if err := a.publishModule(ctx, tx, c, m, vocab.UpdateType); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		a.moduleChanged(c)
	}
	return err
}

// MarkDone records (or, with done false, clears) that u finished module
// moduleID of c. It is the learner's own record; nothing is sent.
func (a *Actions) MarkDone(ctx context.Context, u courses.User, c courses.Course, moduleID int64, done bool) error {
	return a.Courses.MarkDone(ctx, a.Pool, c.ID, moduleID, a.userIRI(u), done)
}

// changeModule runs change on a module of c and publishes its result:
// Update, or Delete when it retired the module; nothing when it made no
// new revision.
func (a *Actions) changeModule(ctx context.Context, c courses.Course, moduleID int64, change func(pgx.Tx) (courses.Module, error)) (courses.Module, error) {
	var m courses.Module
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		before, err := a.Courses.ModuleOf(ctx, tx, c.ID, moduleID)
		if err != nil {
			return err
		}
		if m, err = change(tx); err != nil {
			return err
		}
		if m.Revision == before.Revision {
			return nil
		}
		t := vocab.UpdateType
		if m.Retired {
			t = vocab.DeleteType
		}
		return a.publishModule(ctx, tx, c, m, t)
	})
	if err == nil {
		a.moduleChanged(c)
	}
	return m, err
}

// publishModule sends Create, Update or Delete of m's Article from the
// course to its members and followers, in tx.
func (a *Actions) publishModule(ctx context.Context, tx pgx.Tx, c courses.Course, m courses.Module, t vocab.ActivityVocabularyType) error {
	authors, err := a.Courses.ModuleAuthors(ctx, tx, m.ID)
	if err != nil {
		return err
	}
	id := a.urls().Activity(federation.NewID())
	body, err := a.urls().ModuleActivity(id, t, federation.ArticleFor(a.urls(), a.Courses.Content(), c, m, authors))
	if err != nil {
		return err
	}
	err = a.Sender.Outbox.Publish(ctx, tx, Activity{
		ID: id, Type: string(t), ActorIRI: a.urls().Course(c.Slug), KeyOwner: c.Slug, Body: body, Public: true, FollowersOf: c.ID,
	})
	if err != nil {
		return fmt.Errorf("publish %s of module %d: %w", t, m.ID, err)
	}
	return nil
}

// moduleChanged tells whoever caches course documents that c's syllabus
// changed.
//
// CACHE-INVALIDATION CALL SITE: the "cache" work exposes the entry point;
// until it is wired, ModuleChangedFunc is nil and nothing is cached for
// modules (their documents are rendered on every GET).
func (a *Actions) moduleChanged(c courses.Course) {
	if a.ModuleChangedFunc != nil {
		a.ModuleChangedFunc(c.Slug)
	}
}
