package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// Post writes a post (Markdown) by local user u in a course's discussion,
// replying to inReplyTo when it is set; it is PostWith without options.
func (a *Actions) Post(ctx context.Context, u courses.User, courseIRI, markdown, inReplyTo string) (courses.Post, error) {
	return a.PostWith(ctx, u, courseIRI, markdown, inReplyTo, PostOptions{})
}

// PostWith writes a post (Markdown) by local user u in a course's
// discussion, replying to inReplyTo when it is set, with its mentions and
// hashtags as tags (actions_post_rich.go) and opt's content warning. In a
// local course the course announces it to its members; in a remote one it
// goes to the course as Create(Note), and the course announces it. Either
// way the remote actors it mentions get the author's Create.
func (a *Actions) PostWith(ctx context.Context, u courses.User, courseIRI, markdown, inReplyTo string, opt PostOptions) (courses.Post, error) {
	if strings.TrimSpace(markdown) == "" {
		return courses.Post{}, &courses.ValidationError{Field: "content", Message: "write something first"}
	}
	rich := a.compose(ctx, markdown)
	p := courses.Post{
		IRI: a.urls().Post(federation.NewID()), CourseIRI: courseIRI, AuthorIRI: a.userIRI(u),
		AuthorName: u.DisplayName, AuthorHandle: u.Username, InReplyTo: inReplyTo, Type: "Note",
		Content: rich.html, Published: now(), Local: true, Summary: opt.Summary, Tags: rich.tags,
	}
	if p.AuthorName == "" {
		p.AuthorName = u.Username
	}
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if c, ok, err := a.localCourse(ctx, courseIRI); err != nil {
			return err
		} else if ok {
			if allowed, err := a.Courses.CanPost(ctx, tx, c, p.AuthorIRI); err != nil {
				return err
			} else if !allowed {
				return fmt.Errorf("post in %s: %w", c.Slug, ErrNotEnrolled)
			}
			saved, _, err := a.Courses.SavePost(ctx, tx, p)
			if err != nil {
				return err
			}
			p = saved
			if err := a.Sender.AnnounceToMembers(ctx, tx, c, vocab.IRI(p.IRI), p.InReplyTo == ""); err != nil {
				return err
			}
			// One Create from the author reaches the mentioned actors and
			// the author's followers (user_followers.go, actions_post_rich.go).
			return a.Sender.FromUserToFollowers(ctx, tx, u, withUserFollowers(a.createOf(p)), rich.inboxes...)
		}
		group, err := a.remoteGroup(ctx, tx, u, courseIRI)
		if err != nil {
			return err
		}
		saved, _, err := a.Courses.SavePost(ctx, tx, p)
		if err != nil {
			return err
		}
		p = saved
		to, cc := postAddressing(group)
		act := federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.CreateType, p.AuthorIRI,
			federation.PostObject(p), courseIRI, to, append(cc, p.Mentions()...))
		return a.Sender.FromUserToFollowers(ctx, tx, u, withUserFollowers(act), appendNew(rich.inboxes, group.Inbox)...)
	})
	return p, err
}

// EditPost replaces the content of u's own post.
func (a *Actions) EditPost(ctx context.Context, u courses.User, postIRI, markdown string) (courses.Post, error) {
	var p courses.Post
	rich := a.compose(ctx, markdown)
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		cur, err := a.ownPost(ctx, tx, u, postIRI)
		if err != nil {
			return err
		}
		cur.Content, cur.Tags = rich.html, rich.tags
		cur.Updated = now()
		if p, _, err = a.Courses.SavePost(ctx, tx, cur); err != nil {
			return err
		}
		act := federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.UpdateType, p.AuthorIRI,
			federation.PostObject(p), p.CourseIRI, []string{p.CourseIRI, federation.Public}, []string{federation.Followers(p.CourseIRI)})
		return a.relay(ctx, tx, u, p, act)
	})
	return p, err
}

// DeletePost deletes u's own post.
func (a *Actions) DeletePost(ctx context.Context, u courses.User, postIRI string) error {
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		cur, err := a.ownPost(ctx, tx, u, postIRI)
		if err != nil {
			return err
		}
		p, err := a.Courses.DeletePost(ctx, tx, postIRI)
		if err != nil {
			return err
		}
		tomb := vocab.Tombstone{ID: vocab.IRI(p.IRI), Type: vocab.TombstoneType}
		act := federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.DeleteType, cur.AuthorIRI,
			&tomb, cur.CourseIRI, []string{cur.CourseIRI, federation.Public}, []string{federation.Followers(cur.CourseIRI)})
		if err := a.relay(ctx, tx, u, cur, act); err != nil {
			return err
		}
		c, ok, err := a.localCourse(ctx, cur.CourseIRI)
		if err != nil || !ok {
			return err
		}
		return a.Sender.UndoAnnounces(ctx, tx, c, postIRI)
	})
}

// relay sends an author's Update or Delete of p. In a local course the
// author sends it to every member's inbox, Mastodon followers included
// (they saw the post boosted, and Mastodon accepts an edit or deletion only
// from the post's author); a remote course gets it in its inbox and relays
// it itself.
func (a *Actions) relay(ctx context.Context, tx pgx.Tx, u courses.User, p courses.Post, act *vocab.Activity) error {
	c, ok, err := a.localCourse(ctx, p.CourseIRI)
	if err != nil {
		return err
	}
	if ok {
		inboxes, err := courses.MemberInboxes(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		return a.Sender.FromUserToFollowers(ctx, tx, u, withUserFollowers(act), inboxes...)
	}
	inbox, err := a.remoteCourseInbox(ctx, tx, u, p.CourseIRI)
	if err != nil {
		return err
	}
	return a.Sender.FromUserToFollowers(ctx, tx, u, withUserFollowers(act), inbox)
}

func (a *Actions) ownPost(ctx context.Context, q courses.Querier, u courses.User, postIRI string) (courses.Post, error) {
	p, err := a.Courses.PostByIRI(ctx, q, postIRI)
	if err != nil {
		return courses.Post{}, err
	}
	if p.AuthorIRI != a.userIRI(u) || p.Deleted {
		return courses.Post{}, fmt.Errorf("change post %s: %w", postIRI, courses.ErrForbidden)
	}
	return p, nil
}

// RemovePost is a moderator of a local course taking a post out of its
// discussion: the course sends Delete of it to every member, and colearn
// instances drop their copies (the course has authority over its
// discussion; FEDERATION.md).
func (a *Actions) RemovePost(ctx context.Context, moderator courses.User, postIRI string) error {
	return pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		p, err := a.Courses.PostByIRI(ctx, tx, postIRI)
		if err != nil {
			return err
		}
		c, ok, err := a.localCourse(ctx, p.CourseIRI)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("remove %s: the course is not on this instance: %w", postIRI, courses.ErrForbidden)
		}
		if mod, err := a.Courses.CanModerate(ctx, tx, c.ID, a.userIRI(moderator)); err != nil {
			return err
		} else if !mod {
			return fmt.Errorf("remove %s: %w", postIRI, courses.ErrForbidden)
		}
		return a.removePost(ctx, tx, moderator.Username, c, postIRI, "", 0)
	})
}

// removePost takes postIRI out of local course c's discussion, as the
// moderator named by (see Sender.RemovePost).
func (a *Actions) removePost(ctx context.Context, tx pgx.Tx, by string, c courses.Course, postIRI, reason string, reportID int64) error {
	return a.Sender.RemovePost(ctx, tx, a.Courses, c, by, postIRI, reason, reportID)
}

// Announce posts a short announcement (Markdown) from a local course, as
// moderator u, to every member.
func (a *Actions) Announce(ctx context.Context, u courses.User, c courses.Course, markdown string) (courses.Post, error) {
	courseIRI := a.urls().Course(c.Slug)
	rich := a.compose(ctx, markdown)
	p := courses.Post{
		IRI: a.urls().Post(federation.NewID()), CourseIRI: courseIRI, AuthorIRI: courseIRI, AuthorName: c.Title,
		AuthorHandle: c.Slug, Type: "Note", Content: rich.html, Tags: rich.tags, Published: now(), Local: true,
	}
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		if mod, err := a.Courses.CanModerate(ctx, tx, c.ID, a.userIRI(u)); err != nil {
			return err
		} else if !mod {
			return fmt.Errorf("announce in %s: %w", c.Slug, courses.ErrForbidden)
		}
		return a.fromCourseCreate(ctx, tx, c, p, rich.inboxes...)
	})
	return p, err
}

// fromCourseCreate stores p and sends the course's Create of it to its
// followers and to mentioned, the inboxes of the actors it mentions.
func (a *Actions) fromCourseCreate(ctx context.Context, tx pgx.Tx, c courses.Course, p courses.Post, mentioned ...string) error {
	saved, _, err := a.Courses.SavePost(ctx, tx, p)
	if err != nil {
		return err
	}
	courseIRI := a.urls().Course(c.Slug)
	act := federation.NewActivity(a.urls().Activity(federation.NewID()), vocab.CreateType, courseIRI,
		federation.PostObject(saved), courseIRI, []string{federation.Followers(courseIRI)}, append([]string{federation.Public}, saved.Mentions()...))
	return a.Sender.FromCourse(ctx, tx, c, act, true, mentioned...)
}

// localCourse returns the local course iri names, if it is one.
func (a *Actions) localCourse(ctx context.Context, iri string) (courses.Course, bool, error) {
	slug, ok := a.urls().CourseSlug(iri)
	if !ok {
		return courses.Course{}, false, nil
	}
	c, err := a.Courses.CourseBySlug(ctx, slug)
	if errors.Is(err, courses.ErrNotFound) {
		return courses.Course{}, false, nil
	}
	return c, err == nil, err
}
