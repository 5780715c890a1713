package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// coauthor applies the co-authoring activities (FEDERATION.md, "Co-authors
// on other servers") and reports whether in was one of them; everything
// else goes on to the type's own file. It covers both sides: the course
// (an invitee's answer, an author's change of the syllabus) and the
// co-author's instance (an Invite, the course's Add and Remove, and its
// answers to a change).
func (p *Processor) coauthor(ctx context.Context, tx pgx.Tx, in *Incoming) (bool, error) {
	switch in.Type {
	case "Invite":
		return true, p.invited(ctx, tx, in)
	case "Add", "Remove":
		if done, err := p.grantNotice(ctx, tx, in); done || err != nil || in.Type == "Add" {
			return done, err
		}
		return p.postRemoval(ctx, tx, in) // moderator_remove.go
	case "Accept", "Reject":
		if done, err := p.inviteAnswered(ctx, tx, in); done || err != nil {
			return true, err
		}
		return p.editAnswered(ctx, tx, in)
	case "Create", "Update", "Delete":
		return p.syllabusChange(ctx, tx, in)
	}
	return false, nil
}

// rawString returns the string property name of the activity ("" when it
// is absent or not a string).
func (in *Incoming) rawString(name string) string {
	var s string
	if json.Unmarshal(in.raw[name], &s) != nil {
		return ""
	}
	return s
}

// localUser returns the local user iri names, with ok false for any other.
func (p *Processor) localUser(ctx context.Context, iri string) (courses.User, bool, error) {
	name, ok := strings.CutPrefix(iri, p.URLs.Base()+"/users/")
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return courses.User{}, false, nil
	}
	u, err := p.Courses.UserByUsername(ctx, name)
	if errors.Is(err, courses.ErrNotFound) {
		return courses.User{}, false, nil
	}
	return u, err == nil, err
}

// invited keeps an Invite a remote course sent to a local user. Only a
// course can invite to itself: the signed actor must be the target, and a
// Group on its own origin.
func (p *Processor) invited(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	u, ok, err := p.localUser(ctx, in.ObjectIRI())
	if err != nil || !ok {
		return errors.Join(err, fmt.Errorf("invite of %s: %w", in.ObjectIRI(), errIgnored))
	}
	if target := in.rawString("target"); target != in.Actor {
		return fmt.Errorf("%w: an Invite's target must be the inviting course (%s), not %q", ErrMalformed, in.Actor, target)
	}
	role := federation.RoleName(in.rawString("instrument"))
	if role == "" {
		return fmt.Errorf("%w: unknown role %q in Invite", ErrMalformed, in.rawString("instrument"))
	}
	course, err := p.actorOf(in, in.Actor, false) // fetched outside the transaction (fetch.go)
	if err != nil {
		return err
	}
	if course.Type != "Group" {
		return fmt.Errorf("invite from %s, a %s: %w", in.Actor, course.Type, courses.ErrForbidden)
	}
	return p.Courses.ReceiveInvitation(ctx, tx, courses.Invitation{UserID: u.ID, InviteID: in.ID, CourseIRI: course.IRI,
		CourseName: course.DisplayName(), CourseInbox: course.Inbox, Role: role})
}

// grantNotice records a remote course's Add (the grant is in force) or
// Remove (it was revoked) of a local user, sent by the course itself.
func (p *Processor) grantNotice(ctx context.Context, tx pgx.Tx, in *Incoming) (bool, error) {
	if in.rawString("target") != in.Actor || federation.RoleName(in.rawString("instrument")) == "" {
		return false, nil // some other collection's Add or Remove
	}
	u, ok, err := p.localUser(ctx, in.ObjectIRI())
	if err != nil || !ok {
		return true, errors.Join(err, fmt.Errorf("%s of %s: %w", in.Type, in.ObjectIRI(), errIgnored))
	}
	state := "granted"
	if in.Type == "Remove" {
		state = "revoked"
	}
	return true, p.Courses.GrantNoticed(ctx, tx, in.Actor, u.ID, state)
}

// inviteAnswered applies an invitee's Accept or Reject of an Invite a
// local course sent. Only the invitee can answer (the signed actor must be
// the grantee named when the invitation was made). Accepting makes the
// grant, which the course announces to the grantee with Add.
func (p *Processor) inviteAnswered(ctx context.Context, tx pgx.Tx, in *Incoming) (bool, error) {
	inviteID := in.ObjectIRI()
	if !p.URLs.IsLocal(inviteID) {
		return false, nil
	}
	var slug string
	err := tx.QueryRow(ctx, `SELECT c.slug FROM course_grants g JOIN courses c ON c.id = g.course_id WHERE g.invite_id = $1`, inviteID).Scan(&slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // an answer to something else (a Join, a Follow)
	}
	if err != nil {
		return true, err
	}
	accepted := in.Type == "Accept"
	grantID := ""
	if accepted {
		grantID = p.URLs.Activity(federation.NewID())
	}
	g, err := p.Courses.AnswerInvite(ctx, tx, in.Actor, inviteID, accepted, grantID)
	if err != nil || !accepted {
		return true, err
	}
	c, err := p.Courses.CourseBySlug(ctx, slug)
	if err != nil {
		return true, err
	}
	courseIRI := p.URLs.Course(c.Slug)
	return true, p.courseSends(ctx, tx, c, []string{g.GranteeInbox}, map[string]any{
		"id": grantID, "type": "Add", "actor": courseIRI, "object": g.GranteeIRI, "target": courseIRI,
		"instrument": federation.RoleIRI(g.Role), "to": []string{g.GranteeIRI}, "cc": []string{federation.Followers(courseIRI)},
	})
}
