package outbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// Invite has owner u of local course c invite handle (@name@host or an
// actor IRI) on another server to role, and sends an Invite from the
// course to them. The grant exists once their Accept arrives.
func (a *Actions) Invite(ctx context.Context, u courses.User, c courses.Course, role, handle string) (courses.Grant, error) {
	ra, err := a.resolve(ctx, handle)
	if err != nil {
		return courses.Grant{}, fmt.Errorf("invite %s: %w", handle, err)
	}
	if a.urls().IsLocal(ra.IRI) {
		return courses.Grant{}, &courses.ValidationError{Field: "handle", Message: "invite people on other servers; people here are made moderators on the course page"}
	}
	courseIRI := a.urls().Course(c.Slug)
	var g courses.Grant
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		id := a.urls().Activity(federation.NewID())
		if g, err = a.Courses.Invite(ctx, tx, c.ID, a.userIRI(u), ra.IRI, ra.Inbox, role, id); err != nil {
			return err
		}
		return a.fromCourseTo(ctx, tx, c, ra.Inbox, map[string]any{
			"id": id, "type": "Invite", "actor": courseIRI, "object": ra.IRI, "target": courseIRI,
			"instrument": federation.RoleIRI(role), "to": []string{ra.IRI},
			"summary": fmt.Sprintf("An invitation to write %q as %s", c.Title, role),
		})
	})
	return g, err
}

// Revoke has owner u end the grant (or pending invitation) of handle in c
// and sends Remove to the grantee. The very next edit from them is refused.
func (a *Actions) Revoke(ctx context.Context, u courses.User, c courses.Course, handle string) (courses.Grant, error) {
	iri := handle
	if federation.Origin(handle) == "" {
		ra, err := a.resolve(ctx, handle)
		if err != nil {
			return courses.Grant{}, fmt.Errorf("revoke %s: %w", handle, err)
		}
		iri = ra.IRI
	}
	courseIRI := a.urls().Course(c.Slug)
	var g courses.Grant
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if g, err = a.Courses.Revoke(ctx, tx, c.ID, a.userIRI(u), iri); err != nil {
			return err
		}
		return a.fromCourseTo(ctx, tx, c, g.GranteeInbox, map[string]any{
			"id": a.urls().Activity(federation.NewID()), "type": "Remove", "actor": courseIRI, "object": g.GranteeIRI,
			"target": courseIRI, "instrument": federation.RoleIRI(g.Role), "to": []string{g.GranteeIRI},
		})
	})
	return g, err
}

func (a *Actions) fromCourseTo(ctx context.Context, tx pgx.Tx, c courses.Course, inbox string, act map[string]any) error {
	body, err := federation.JSONActivity(act)
	if err != nil {
		return err
	}
	return a.Sender.Outbox.Publish(ctx, tx, Activity{ID: act["id"].(string), Type: act["type"].(string),
		ActorIRI: a.urls().Course(c.Slug), KeyOwner: c.Slug, Body: body, Inboxes: []string{inbox}})
}

// AnswerInvitation has u accept or decline invitation id (one a remote
// course sent them) and sends Accept or Reject of the Invite to the course.
func (a *Actions) AnswerInvitation(ctx context.Context, u courses.User, id int64, accept bool) (courses.Invitation, error) {
	var v courses.Invitation
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if v, err = a.Courses.AnswerInvitation(ctx, tx, u.ID, id, accept); err != nil {
			return err
		}
		t := "Reject"
		if accept {
			t = "Accept"
		}
		return a.fromUserTo(ctx, tx, u, v.CourseInbox, map[string]any{
			"id": a.urls().Activity(federation.NewID()), "type": t, "actor": a.userIRI(u), "object": v.InviteID,
			"to": []string{v.CourseIRI},
		})
	})
	return v, err
}

func (a *Actions) fromUserTo(ctx context.Context, tx pgx.Tx, u courses.User, inbox string, act map[string]any) error {
	body, err := federation.JSONActivity(act)
	if err != nil {
		return err
	}
	return a.Sender.Outbox.Publish(ctx, tx, Activity{ID: act["id"].(string), Type: act["type"].(string),
		ActorIRI: a.userIRI(u), KeyOwner: u.Username, Body: body, Inboxes: []string{inbox}})
}

// ProposeModule sends a change of a remote course's syllabus written by u:
// kind Create (a new module; moduleIRI empty), Update (an edit of module
// moduleIRI made from revision base) or Delete (retiring it). The change is
// kept until the course answers with Accept (applied) or Reject (refused,
// with the current text for merging): courses.Store.RemoteEdits lists it.
// The course decides whether u may write it; nothing is checked here but
// the shape.
func (a *Actions) ProposeModule(ctx context.Context, u courses.User, course, kind, moduleIRI string, base int, d courses.ModuleDraft) (courses.RemoteEdit, error) {
	ra, err := a.resolve(ctx, course)
	if err != nil {
		return courses.RemoteEdit{}, fmt.Errorf("course %s: %w", course, err)
	}
	switch {
	case kind != "Create" && kind != "Update" && kind != "Delete":
		return courses.RemoteEdit{}, &courses.ValidationError{Field: "kind", Message: "a change is Create, Update or Delete"}
	case kind != "Create" && !federation.SameOrigin(moduleIRI, ra.IRI):
		return courses.RemoteEdit{}, &courses.ValidationError{Field: "module", Message: "the module must be one of the course's"}
	case kind == "Update" && base < 1:
		return courses.RemoteEdit{}, &courses.ValidationError{Field: "base", Message: "an edit names the revision it was made from"}
	case kind != "Delete" && d.Title == "":
		return courses.RemoteEdit{}, &courses.ValidationError{Field: "title", Message: "give the module a title"}
	}
	id := a.urls().Activity(federation.NewID())
	act := map[string]any{"id": id, "type": kind, "actor": a.userIRI(u), "target": ra.IRI + "/modules", "to": []string{ra.IRI}}
	if kind == "Delete" {
		act["object"] = moduleIRI
	} else {
		obj := map[string]any{"type": "Article", "name": d.Title, "summary": d.Summary,
			"source":       map[string]any{"content": d.Body, "mediaType": "text/markdown"},
			"attributedTo": a.userIRI(u), "context": ra.IRI}
		if kind == "Update" {
			obj["id"] = moduleIRI
			act["baseRevision"] = base
		}
		act["object"] = obj
	}
	var e courses.RemoteEdit
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		e, err = a.Courses.RecordRemoteEdit(ctx, tx, courses.RemoteEdit{UserID: u.ID, ActivityID: id, CourseIRI: ra.IRI, Kind: kind,
			ModuleIRI: moduleIRI, Base: base, Title: d.Title, Summary: d.Summary, Body: d.Body})
		if err != nil {
			return err
		}
		return a.fromUserTo(ctx, tx, u, ra.Inbox, act)
	})
	return e, err
}
