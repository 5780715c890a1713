package outbox

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// BlockDomain blocks a server for the whole instance, as by (an admin's
// username, or "cli"; the caller checks the right), with a reason: its
// members leave every course, each Follow or Join answered with Reject, its
// instance actors stop co-hosting local courses, and
// from then on its requests are refused, nothing is fetched from it and
// nothing else is delivered to it. The block and each removal are logged.
// It returns the memberships it ended. Blocking this instance's own host is
// a *courses.ValidationError.
func (a *Actions) BlockDomain(ctx context.Context, by, host, reason string) (courses.DomainBlock, []courses.Member, error) {
	return a.blockDomain(ctx, by, host, reason, 0)
}

func (a *Actions) blockDomain(ctx context.Context, by, host, reason string, reportID int64) (courses.DomainBlock, []courses.Member, error) {
	var b courses.DomainBlock
	var gone []courses.Member
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		b, gone, err = a.blockDomainTx(ctx, tx, by, host, reason, reportID)
		return err
	})
	if err != nil {
		return courses.DomainBlock{}, nil, err
	}
	if a.Domains != nil {
		a.Domains.Invalidate()
	}
	return b, gone, nil
}

// blockDomainTx is BlockDomain inside tx; the caller invalidates Domains
// after the commit.
func (a *Actions) blockDomainTx(ctx context.Context, tx pgx.Tx, by, host, reason string, reportID int64) (courses.DomainBlock, []courses.Member, error) {
	host, err := courses.NormalizeHost(host)
	if err != nil {
		return courses.DomainBlock{}, nil, err
	}
	if courses.HostCovered(host, strings.ToLower(a.urls().Host)) {
		return courses.DomainBlock{}, nil, &courses.ValidationError{Field: "host", Message: "that is this instance's own host"}
	}
	b, _, err := a.Courses.BlockDomain(ctx, tx, host, reason, by)
	if err != nil {
		return courses.DomainBlock{}, nil, err
	}
	gone, err := a.Courses.RemoveDomainMembers(ctx, tx, host)
	if err != nil {
		return courses.DomainBlock{}, nil, err
	}
	if _, err := a.Courses.RemoveDomainFollowers(ctx, tx, host); err != nil { // of local users (user_follower.go)
		return courses.DomainBlock{}, nil, err
	}
	if _, err := a.Courses.RemoveDomainCohosts(ctx, tx, host); err != nil { // of local courses (course_cohost.go)
		return courses.DomainBlock{}, nil, err
	}
	for _, m := range gone {
		c, err := a.Courses.CourseByID(ctx, tx, m.CourseID)
		if err != nil {
			return courses.DomainBlock{}, nil, err
		}
		if err := a.reject(ctx, tx, c, m); err != nil {
			return courses.DomainBlock{}, nil, err
		}
	}
	err = a.Courses.LogModeration(ctx, tx, courses.ModAction{Actor: by, Action: courses.ModDomainBlock, Target: host,
		ReportID: reportID, Reason: reason})
	return b, gone, err
}

// UnblockDomain lifts the block of host, as by, and logs it with a reason;
// courses.ErrNotFound when host is not blocked. Former members stay gone:
// they follow again if they wish.
func (a *Actions) UnblockDomain(ctx context.Context, by, host, reason string) error {
	host, err := courses.NormalizeHost(host)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if err := a.Courses.UnblockDomain(ctx, tx, host); err != nil {
			return err
		}
		return a.Courses.LogModeration(ctx, tx, courses.ModAction{Actor: by, Action: courses.ModDomainUnblock, Target: host, Reason: reason})
	})
	if err == nil && a.Domains != nil {
		a.Domains.Invalidate()
	}
	return err
}

// domainBlocked reports whether iri is on a blocked server.
func (a *Actions) domainBlocked(ctx context.Context, iri string) bool {
	return a.Domains != nil && a.Domains.IRIBlocked(ctx, iri)
}

// ErrNotModerator means the user may not see or act on a report: only the
// instance's admins and the moderators of the reported post's course may.
var ErrNotModerator = fmt.Errorf("not a moderator of this report: %w", courses.ErrForbidden)

// ReportQueue lists the reports u may handle, in state ("" for all): every
// report for an admin, those about posts of the courses u moderates for
// anyone else (nothing when u moderates none).
func (a *Actions) ReportQueue(ctx context.Context, u courses.User, state string, limit int) ([]courses.Report, error) {
	pool := a.Courses.Pool()
	if u.IsAdmin {
		return a.Courses.Reports(ctx, pool, state, nil, limit)
	}
	mine, err := a.Courses.ModeratedCourses(ctx, pool, a.userIRI(u), a.urls().Course(""))
	if err != nil {
		return nil, err
	}
	if mine == nil {
		mine = []string{}
	}
	return a.Courses.Reports(ctx, pool, state, mine, limit)
}

// Moderates reports whether u may handle report r (see ReportQueue).
func (a *Actions) Moderates(ctx context.Context, q courses.Querier, u courses.User, r courses.Report) (bool, error) {
	if u.IsAdmin {
		return true, nil
	}
	c, ok, err := a.localCourse(ctx, r.CourseIRI)
	if err != nil || !ok {
		return false, err
	}
	return a.Courses.CanModerate(ctx, q, c.ID, a.userIRI(u))
}

// Report remedies, chosen on the moderation queue.
const (
	RemedyNone        = "resolve"      // close the report, doing nothing else
	RemedyRemovePost  = "remove-post"  // take the post out of its local course
	RemedyBlockMember = "block-member" // block the author from the post's local course
	RemedyBlockDomain = "block-domain" // block the author's server (admins only)
)

// ResolveReport closes open report id as u, after applying remedy with
// reason (which goes to the moderation log): every step, the report's
// resolution and the log entries commit together. Who may: see
// ReportQueue; blocking a domain is for admins. Errors: courses.ErrNotFound
// (no such open report), ErrNotModerator, courses.ErrForbidden (a remedy
// that does not apply: the post is not in a local course, the author is
// local), *courses.ValidationError.
func (a *Actions) ResolveReport(ctx context.Context, u courses.User, id int64, remedy, reason string) (courses.Report, error) {
	var r courses.Report
	var blockedHost string
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var err error
		if r, err = a.Courses.ReportByID(ctx, tx, id); err != nil {
			return err
		}
		if r.State != courses.ReportOpen {
			return fmt.Errorf("report %d is %s: %w", id, r.State, courses.ErrNotFound)
		}
		if ok, err := a.Moderates(ctx, tx, u, r); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("report %d: %w", id, ErrNotModerator)
		}
		resolution := "resolved"
		switch remedy {
		case RemedyNone, "":
		case RemedyRemovePost, RemedyBlockMember:
			c, ok, err := a.localCourse(ctx, r.CourseIRI)
			if err != nil {
				return err
			}
			if !ok || (remedy == RemedyRemovePost && r.PostIRI == "") {
				return fmt.Errorf("report %d: %s applies to posts of courses on this instance: %w", id, remedy, courses.ErrForbidden)
			}
			if remedy == RemedyRemovePost {
				if err := a.removePost(ctx, tx, u.Username, c, r.PostIRI, reason, r.ID); err != nil {
					return err
				}
				resolution = "post removed"
			} else {
				if err := a.block(ctx, tx, u.Username, "", c, r.TargetIRI, reason, r.ID); err != nil {
					return err
				}
				resolution = "member blocked from " + c.Slug
			}
		case RemedyBlockDomain:
			if !u.IsAdmin {
				return fmt.Errorf("report %d: only admins block domains: %w", id, courses.ErrForbidden)
			}
			if a.urls().IsLocal(r.TargetIRI) {
				return fmt.Errorf("report %d: the account is local: %w", id, courses.ErrForbidden)
			}
			blockedHost = iriHost(r.TargetIRI)
			if _, _, err := a.blockDomainTx(ctx, tx, u.Username, blockedHost, reason, r.ID); err != nil {
				return err
			}
			resolution = "domain " + blockedHost + " blocked"
		default:
			return &courses.ValidationError{Field: "remedy", Message: "unknown action " + remedy}
		}
		if reason != "" {
			resolution += ": " + reason
		}
		if r, err = a.Courses.ResolveReport(ctx, tx, id, u.Username, resolution); err != nil {
			return err
		}
		return a.Courses.LogModeration(ctx, tx, courses.ModAction{Actor: u.Username, Action: courses.ModReportResolve,
			Target: fmt.Sprintf("report %d", id), CourseIRI: r.CourseIRI, ReportID: id, Reason: resolution})
	})
	if err == nil && blockedHost != "" && a.Domains != nil {
		a.Domains.Invalidate()
	}
	return r, err
}

// ReportTarget is what a local user reports: a post (its author is the
// account reported) or an account.
type ReportTarget struct {
	PostIRI    string
	AccountIRI string
}

// Report files u's report of a post or an account, with a comment, into
// the moderation queue. When what is reported lives on another server, a
// Flag from this instance's actor goes to that server's instance actor
// (or, when it has none at /actor, to the reported account), naming the
// account and the post, so its moderators see it too; the report's
// ActivityID then names that Flag. Errors: courses.ErrNotFound (no such
// post or account), *courses.ValidationError (nothing named, comment too
// long).
func (a *Actions) Report(ctx context.Context, u courses.User, t ReportTarget, comment string) (courses.Report, error) {
	r := courses.Report{ReporterIRI: a.userIRI(u), Comment: comment, Source: courses.SourceLocal}
	switch {
	case t.PostIRI != "":
		p, err := a.Courses.PostByIRI(ctx, a.Courses.Pool(), t.PostIRI)
		if err != nil {
			return courses.Report{}, err
		}
		if p.Deleted {
			return courses.Report{}, fmt.Errorf("report %s: %w", t.PostIRI, courses.ErrNotFound)
		}
		r.TargetIRI, r.PostIRI, r.CourseIRI = p.AuthorIRI, p.IRI, p.CourseIRI
	case t.AccountIRI != "":
		if err := a.knownAccount(ctx, t.AccountIRI); err != nil {
			return courses.Report{}, err
		}
		r.TargetIRI = t.AccountIRI
	default:
		return courses.Report{}, &courses.ValidationError{Field: "target", Message: "say which post or account you report"}
	}
	origin := r.PostIRI
	if origin == "" {
		origin = r.TargetIRI
	}
	var to federation.RemoteActor
	remote := !a.urls().IsLocal(origin) && !a.domainBlocked(ctx, origin)
	if remote {
		// Fetched before the transaction, as every fetch is.
		to = a.flagRecipient(ctx, origin, r.TargetIRI)
	}
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		saved, _, err := a.Courses.FileReport(ctx, tx, r)
		if err != nil {
			return err
		}
		r = saved
		inbox := to.SharedInbox
		if inbox == "" {
			inbox = to.Inbox
		}
		if inbox == "" {
			return nil
		}
		id := a.urls().Activity(federation.NewID())
		objects := vocab.ItemCollection{vocab.IRI(r.TargetIRI)}
		if r.PostIRI != "" {
			objects = append(objects, vocab.IRI(r.PostIRI))
		}
		flag := federation.NewActivity(id, vocab.FlagType, a.urls().InstanceActor(), objects, "", []string{to.IRI}, nil)
		if r.Comment != "" {
			flag.Content = vocab.DefaultNaturalLanguageValue(r.Comment)
		}
		act, err := a.Sender.activity(flag, a.urls().InstanceActor(), "", []string{inbox})
		if err != nil {
			return err
		}
		if err := a.Sender.publish(ctx, tx, act); err != nil {
			return err
		}
		r.ActivityID = id
		return a.Courses.SetReportActivity(ctx, tx, r.ID, id)
	})
	return r, err
}

// flagRecipient finds who receives a Flag about something at origin: the
// instance actor at its server's /actor (colearn, Mastodon), else the
// reported account itself. The zero value means neither could be fetched;
// the report is then kept here only.
func (a *Actions) flagRecipient(ctx context.Context, origin, account string) federation.RemoteActor {
	if ra, err := a.Resolver.Actor(ctx, federation.Origin(origin)+"/actor", false); err == nil && ra.Inbox != "" {
		return ra
	}
	if a.urls().IsLocal(account) {
		return federation.RemoteActor{}
	}
	ra, err := a.Resolver.Actor(ctx, account, false)
	if err != nil {
		return federation.RemoteActor{}
	}
	return ra
}

// knownAccount checks that iri names a local user or course, or an actor
// its server serves.
func (a *Actions) knownAccount(ctx context.Context, iri string) error {
	if !a.urls().IsLocal(iri) {
		_, err := a.Resolver.Actor(ctx, iri, false)
		if err != nil {
			return fmt.Errorf("report %s: %w: %v", iri, courses.ErrNotFound, err)
		}
		return nil
	}
	if _, ok, err := a.localCourse(ctx, iri); err != nil || ok {
		return err
	}
	name, ok := strings.CutPrefix(iri, a.urls().User(""))
	if ok && name != "" {
		if _, err := a.Courses.UserByUsername(ctx, name); err == nil {
			return nil
		}
	}
	return fmt.Errorf("report %s: %w", iri, courses.ErrNotFound)
}

// iriHost returns the lower-cased host[:port] of an absolute IRI, or "".
func iriHost(iri string) string {
	u, err := url.Parse(iri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
