package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// postRemoval applies a Remove whose object is a post and whose target is
// the local course it was posted in: a moderator on another server, holding
// a moderator grant, takes the post out of the discussion (FEDERATION.md,
// "Moderators on other servers"). It reports false for a Remove that is
// not about a local course's post (a badge's revocation notice, say).
func (p *Processor) postRemoval(ctx context.Context, tx pgx.Tx, in *Incoming) (bool, error) {
	target := in.rawString("target")
	slug, ok := p.URLs.CourseSlug(target)
	if !ok {
		return false, nil
	}
	post, err := p.Courses.PostByIRI(ctx, tx, in.ObjectIRI())
	if errors.Is(err, courses.ErrNotFound) {
		return true, fmt.Errorf("%w: Remove of %s, which is not a post here", errIgnored, in.ObjectIRI())
	}
	if err != nil {
		return true, err
	}
	if post.CourseIRI != target {
		return true, fmt.Errorf("remove %s from %s: the post is in %s: %w", post.IRI, slug, post.CourseIRI, courses.ErrForbidden)
	}
	return true, p.moderatorRemoves(ctx, tx, in, post)
}

// moderatorRemoves takes post out of its local course's discussion for
// in's actor, a moderator on another server, as a local moderator's
// removal does (the course sends Delete and Undo of its boosts, and logs
// it). Only a live moderator grant in that course allows it; anyone else,
// an author's grant included, gets courses.ErrForbidden and nothing
// changes.
func (p *Processor) moderatorRemoves(ctx context.Context, tx pgx.Tx, in *Incoming, post courses.Post) error {
	c, ok, err := p.localCourse(ctx, post.CourseIRI)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s may not delete %s: %w", in.Actor, post.IRI, courses.ErrForbidden)
	}
	if post.Deleted {
		return nil
	}
	allowed, err := p.Courses.HasModeratorGrant(ctx, tx, c.ID, in.Actor)
	if err != nil {
		return err
	}
	if !allowed {
		return fmt.Errorf("%s may not remove %s from %s (no moderator grant): %w", in.Actor, post.IRI, c.Slug, courses.ErrForbidden)
	}
	if err := p.Sender.RemovePost(ctx, tx, p.Courses, c, in.Actor, post.IRI, "removed by a moderator on another server", 0); err != nil {
		return err
	}
	return p.Courses.Tombstone(ctx, tx, post.IRI, in.Actor)
}
