package inbox

import (
	"context"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// create adds a post to a local course's discussion and has the course
// announce it. The course is found in the post's audience, to or cc, or,
// for a reply sent only to its parent's author (as Mastodon does), through
// the post it replies to. Only the author may create, only on their own
// origin, only members may post unless the discussion is open, only public
// posts are published, and a post deleted before it arrived stays deleted.
// When the object must be fetched, the sender is authorized first, from the
// activity's own addressing.
func (p *Processor) create(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if !in.objectEmbedded() {
		// Checked before anything is fetched; an embedded object's
		// tombstone is found by SavePost, which checks every post it saves.
		if err := p.Courses.Tombstoned(ctx, tx, in.ObjectIRI()); err != nil {
			return fmt.Errorf("%w: Create of %v", errIgnored, err)
		}
		if err := p.authorizeCreate(ctx, tx, in); err != nil {
			return err
		}
	}
	o, err := p.objectOf(ctx, in)
	if err != nil {
		return err
	}
	if !isPostType(o) {
		return fmt.Errorf("%w: Create of a %s", errIgnored, o.Type)
	}
	if moduleOfCourse(o, in.Actor) {
		return p.createFromRemoteCourse(ctx, tx, in, o)
	}
	if attributedTo(o) != in.Actor || !mayAuthor(o.ID.String(), in.Actor) {
		return fmt.Errorf("Create by %s of %s attributed to %q: %w", in.Actor, o.ID, attributedTo(o), courses.ErrForbidden)
	}
	c, ok, err := p.courseOf(ctx, tx, o)
	if err != nil {
		return err
	}
	if !ok {
		return p.createFromRemoteCourse(ctx, tx, in, o)
	}
	if allowed, err := p.Courses.CanPost(ctx, tx, c, in.Actor); err != nil {
		return err
	} else if !allowed {
		return fmt.Errorf("%s may not post in %s: %w", in.Actor, c.Slug, courses.ErrForbidden)
	}
	if !isPublic(in.objectJSON(o.ID.String())) {
		return fmt.Errorf("post %s to %s: %w", o.ID, c.Slug, errNotPublic)
	}
	author, err := p.actorOf(in, in.Actor, false)
	if err != nil {
		return err
	}
	post := postFrom(o, in.objectJSON(o.ID.String()), p.URLs.Course(c.Slug), author)
	post.Updated = post.Updated.UTC()
	saved, created, err := p.Courses.SavePost(ctx, tx, post)
	if err != nil {
		return err
	}
	if !created {
		return nil
	}
	return p.Sender.AnnounceToMembers(ctx, tx, c, vocab.IRI(saved.IRI), saved.InReplyTo == "")
}

// authorizeCreate decides, before the object is fetched, whether the
// sender could post anything here: the activity must name a local course
// the sender may post in, or come from a remote course local users are
// enrolled in. A Create that is neither costs no fetch.
func (p *Processor) authorizeCreate(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	act := in.Activity
	for _, col := range []vocab.ItemCollection{act.Audience, act.To, act.CC} {
		for _, it := range col {
			c, ok, err := p.localCourse(ctx, it.GetLink().String())
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if allowed, err := p.Courses.CanPost(ctx, tx, c, in.Actor); err != nil {
				return err
			} else if !allowed {
				return fmt.Errorf("%s may not post in %s: %w", in.Actor, c.Slug, courses.ErrForbidden)
			}
			return nil
		}
	}
	if enrolled, err := p.Courses.HasEnrollments(ctx, tx, in.Actor); err != nil {
		return err
	} else if !enrolled {
		return fmt.Errorf("%w: Create addressed to no course here", errIgnored)
	}
	return nil
}

// courseOf finds the local course a post belongs to.
func (p *Processor) courseOf(ctx context.Context, q courses.Querier, o *vocab.Object) (courses.Course, bool, error) {
	var candidates []string
	for _, col := range []vocab.ItemCollection{o.Audience, o.To, o.CC} {
		for _, it := range col {
			candidates = append(candidates, it.GetLink().String())
		}
	}
	if o.Context != nil {
		candidates = append(candidates, o.Context.GetLink().String())
	}
	for _, iri := range candidates {
		c, ok, err := p.localCourse(ctx, iri)
		if err != nil || ok {
			return c, ok, err
		}
	}
	if o.InReplyTo == nil {
		return courses.Course{}, false, nil
	}
	parent, err := p.Courses.PostByIRI(ctx, q, o.InReplyTo.GetLink().String())
	if errors.Is(err, courses.ErrNotFound) {
		return courses.Course{}, false, nil
	}
	if err != nil {
		return courses.Course{}, false, err
	}
	return p.localCourse(ctx, parent.CourseIRI)
}

// createFromRemoteCourse keeps a public lesson or announcement that a
// remote course, which local users are enrolled in, posted itself.
func (p *Processor) createFromRemoteCourse(ctx context.Context, tx pgx.Tx, in *Incoming, o *vocab.Object) error {
	if enrolled, err := p.Courses.HasEnrollments(ctx, tx, in.Actor); err != nil {
		return err
	} else if !enrolled {
		return fmt.Errorf("%w: post addressed to no course here", errIgnored)
	}
	if !isPublic(in.objectJSON(o.ID.String())) {
		return fmt.Errorf("post %s of %s: %w", o.ID, in.Actor, errNotPublic)
	}
	course, err := p.actorOf(in, in.Actor, false)
	if err != nil {
		return err
	}
	_, _, err = p.Courses.SavePost(ctx, tx, postFrom(o, in.objectJSON(o.ID.String()), in.Actor, course))
	return err
}

// moduleOfCourse reports whether o is a module a course publishes: an
// Article on the course's own origin whose context is the course. Its
// attributedTo names its authors, not the course, which sends it.
func moduleOfCourse(o *vocab.Object, actor string) bool {
	return o.Type == vocab.ArticleType && o.Context != nil && o.Context.GetLink().String() == actor &&
		federation.SameOrigin(o.ID.String(), actor)
}
