package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/outbox"
)

const grantsUsage = `Usage:
  colearn course invite --course SLUG --role author|moderator HANDLE
  colearn course grants --course SLUG
  colearn course revoke --course SLUG HANDLE

The owner of the course invites @someone@other.host: the running instance's
workers send the Invite, and the grant exists once they accept it on their
own instance. Revoking sends Remove; their next change is refused.`

// grantsCommand runs course invite, grants and revoke, as the course's
// owner.
func grantsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet("course "+args[0], grantsUsage, stderr)
	instanceFlags(fs, &c)
	slug := fs.String("course", "", "the course's slug")
	role := fs.String("role", courses.RoleAuthor, "author or moderator")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	handle := ""
	if len(pos) == 1 {
		handle = pos[0]
	}
	if *slug == "" || (args[0] != "grants" && handle == "") {
		fs.Usage()
		return errors.New("--course and, for invite and revoke, one HANDLE are required")
	}
	env, err := openCLIEnv(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	course, err := env.store.CourseBySlug(ctx, *slug)
	if err != nil {
		return fmt.Errorf("--course %s: %w", *slug, err)
	}
	switch args[0] {
	case "grants":
		gs, err := env.store.Grants(ctx, env.pool, course.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "GRANTEE\tROLE\tSTATE\tGRANTED BY\tINVITED\tGRANTED\tENDED")
		for _, g := range gs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.GranteeIRI, g.Role, g.State, g.GrantedBy,
				g.InvitedAt.UTC().Format("2006-01-02 15:04"), when(g.GrantedAt), when(g.EndedAt))
		}
		return tw.Flush()
	}
	owner, err := env.owner(ctx, course)
	if err != nil {
		return err
	}
	if args[0] == "invite" {
		g, err := env.actions.Invite(ctx, owner, course, *role, handle)
		if err != nil {
			return fmt.Errorf("invite %s: %w", handle, err)
		}
		fmt.Fprintf(stdout, "invited %s as %s; the grant starts when they accept\n", g.GranteeIRI, g.Role)
		return nil
	}
	g, err := env.actions.Revoke(ctx, owner, course, handle)
	if err != nil {
		return fmt.Errorf("revoke %s: %w", handle, err)
	}
	fmt.Fprintf(stdout, "revoked the %s grant of %s\n", g.Role, g.GranteeIRI)
	return nil
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// owner returns the local user who owns course.
func (e *cliEnv) owner(ctx context.Context, course courses.Course) (courses.User, error) {
	members, err := e.store.Members(ctx, e.pool, course.ID)
	if err != nil {
		return courses.User{}, err
	}
	for _, m := range members {
		if m.Role == courses.RoleOwner {
			if name, ok := strings.CutPrefix(m.ActorIRI, e.urls.User("")); ok {
				return e.store.UserByUsername(ctx, name)
			}
		}
	}
	return courses.User{}, fmt.Errorf("course %s has no local owner: %w", course.Slug, courses.ErrNotFound)
}

const invitationUsage = `Usage:
  colearn invitation list    --as USERNAME
  colearn invitation accept  --as USERNAME ID
  colearn invitation decline --as USERNAME ID
  colearn invitation edits   --as USERNAME

Invitations are what courses on other servers sent you; accepting sends
Accept to the course, which then lets you write its modules
(colearn module add|edit --course @slug@host). "edits" lists the changes you
sent to such courses and their answers; a refused edit shows your text and
the course's current one, to merge.`

func invitationCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !strings.Contains(" list accept decline edits ", " "+args[0]+" ") {
		fmt.Fprintln(stderr, invitationUsage)
		return errors.New("unknown invitation command")
	}
	var c config
	fs := newFlagSet("invitation "+args[0], invitationUsage, stderr)
	instanceFlags(fs, &c)
	as := fs.String("as", "", "your username")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if *as == "" {
		fs.Usage()
		return errors.New("--as is required")
	}
	var id int64
	if args[0] == "accept" || args[0] == "decline" {
		if len(pos) == 1 {
			id, err = strconv.ParseInt(pos[0], 10, 64)
		}
		if err != nil || len(pos) != 1 {
			return errors.New("give the invitation's ID (colearn invitation list shows it)")
		}
	}
	env, err := openCLIEnv(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer env.close()
	u, err := env.store.UserByUsername(ctx, *as)
	if err != nil {
		return fmt.Errorf("--as %s: %w", *as, err)
	}
	switch args[0] {
	case "list":
		vs, err := env.store.Invitations(ctx, env.pool, u.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCOURSE\tROLE\tSTATE\tRECEIVED")
		for _, v := range vs {
			fmt.Fprintf(tw, "%d\t%s (%s)\t%s\t%s\t%s\n", v.ID, v.CourseName, v.CourseIRI, v.Role, v.State, v.ReceivedAt.UTC().Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case "edits":
		return listRemoteEdits(ctx, env, u, stdout)
	}
	v, err := env.actions.AnswerInvitation(ctx, u, id, args[0] == "accept")
	if err != nil {
		return fmt.Errorf("invitation %d: %w", id, err)
	}
	fmt.Fprintf(stdout, "%s the invitation to %s as %s\n", v.State, v.CourseIRI, v.Role)
	return nil
}

func listRemoteEdits(ctx context.Context, env *cliEnv, u courses.User, stdout io.Writer) error {
	es, err := env.store.RemoteEdits(ctx, env.pool, u.ID)
	if err != nil {
		return err
	}
	for _, e := range es {
		target := e.ModuleIRI
		if target == "" {
			target = e.CourseIRI + " (new module)"
		}
		fmt.Fprintf(stdout, "%d\t%s %s\t%s", e.ID, e.Kind, target, e.State)
		if e.ResultRevision > 0 {
			fmt.Fprintf(stdout, " (revision %d)", e.ResultRevision)
		}
		if e.Reason != "" {
			fmt.Fprintf(stdout, ": %s", e.Reason)
		}
		fmt.Fprintln(stdout)
		if e.State == "refused" && e.CurrentTitle != "" {
			fmt.Fprintf(stdout, "--- yours (based on revision %d): %s\n%s\n--- current (revision %d): %s\n%s\n",
				e.Base, e.Title, e.Body, e.ResultRevision, e.CurrentTitle, e.CurrentBody)
		}
	}
	return nil
}

// remoteTarget is a course on another server, named by its handle: its
// syllabus is read from the course's origin, and changes go out as the
// author's Create or Update, through this instance as the web page's do.
// The course answers later; colearn invitation edits shows the answer.
type remoteTarget struct {
	env    *cliEnv
	course federation.RemoteActor
}

func (e *cliEnv) remoteTarget(ctx context.Context, handle string) (moduleTarget, error) {
	ra, err := e.resolver.Handle(ctx, handle)
	if err != nil {
		return nil, fmt.Errorf("--course %s: %w", handle, err)
	}
	if ra.Type != "Group" {
		return nil, fmt.Errorf("--course %s is a %s, not a course", handle, ra.Type)
	}
	return remoteTarget{env: e, course: ra}, nil
}

func (t remoteTarget) list(ctx context.Context) ([]courses.Module, error) {
	_, mods, err := t.env.actions.RemoteSyllabus(ctx, t.course.IRI)
	if err != nil {
		return nil, err
	}
	var out []courses.Module
	for _, m := range mods {
		out = append(out, moduleOf(m))
	}
	return out, nil
}

func moduleOf(m outbox.RemoteModule) courses.Module {
	return courses.Module{ID: m.ID, Number: m.Position, Revision: m.Revision, ModuleDraft: courses.ModuleDraft{Title: m.Title, Body: m.Body}}
}

func (t remoteTarget) fetch(ctx context.Context, iri string) (courses.Module, error) {
	m, err := t.env.actions.RemoteModule(ctx, t.course.IRI, iri)
	return moduleOf(m), err
}

func (t remoteTarget) moduleIRI(id int64) string {
	return t.course.IRI + "/modules/" + strconv.FormatInt(id, 10)
}

func (t remoteTarget) module(ctx context.Context, id int64) (courses.Module, error) {
	return t.fetch(ctx, t.moduleIRI(id))
}

func (t remoteTarget) add(ctx context.Context, u courses.User, d courses.ModuleDraft) (courses.Module, error) {
	_, err := t.env.actions.ProposeModule(ctx, u, t.course.IRI, "Create", "", 0, d)
	return courses.Module{}, err
}

func (t remoteTarget) edit(ctx context.Context, u courses.User, id int64, base int, d courses.ModuleDraft) (courses.Module, error) {
	if base == 0 {
		cur, err := t.module(ctx, id)
		if err != nil {
			return courses.Module{}, err
		}
		base = cur.Revision
	}
	_, err := t.env.actions.ProposeModule(ctx, u, t.course.IRI, "Update", t.moduleIRI(id), base, d)
	return courses.Module{ID: id}, err
}

func (t remoteTarget) url(m courses.Module) string {
	if m.ID == 0 {
		return t.course.IRI
	}
	return t.moduleIRI(m.ID)
}
