package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
)

// update applies an author's edit of a post (and a local course re-announces
// the Update to its members), or refreshes a cached remote actor that
// changed its profile. The stored post's author is checked before anything
// is fetched. An Update of a post not seen yet (it overtook its Create) is
// taken as the Create, with the same rules; the Create that follows then
// changes nothing, since its post is older.
func (p *Processor) update(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if in.updatesActor() {
		return p.actorUpdate(ctx, tx, in) // actor_update.go
	}
	cur, err := p.Courses.PostByIRI(ctx, tx, in.ObjectIRI())
	if errors.Is(err, courses.ErrNotFound) {
		return p.create(ctx, tx, in)
	}
	if err != nil {
		return err
	}
	if cur.AuthorIRI != in.Actor {
		return fmt.Errorf("%s may not edit %s: %w", in.Actor, cur.IRI, courses.ErrNotOwner)
	}
	o, err := p.objectOf(ctx, in)
	if err != nil {
		return err
	}
	if !isPostType(o) {
		return fmt.Errorf("%w: Update of a %s", errIgnored, o.Type)
	}
	if (attributedTo(o) != in.Actor && !moduleOfCourse(o, in.Actor)) || !mayAuthor(cur.IRI, in.Actor) {
		return fmt.Errorf("%s may not edit %s: %w", in.Actor, cur.IRI, courses.ErrForbidden)
	}
	if !isPublic(in.objectJSON(o.ID.String())) {
		return fmt.Errorf("edit of %s: %w", cur.IRI, errNotPublic)
	}
	edit := cur
	edit.Content = o.Content.First().String()
	edit.Name = o.Name.First().String()
	edit.Updated = o.Updated
	edit.Summary, edit.Sensitive, edit.Tags, edit.Attachments = "", false, nil, nil
	setRich(&edit, in.objectJSON(o.ID.String()))
	if edit.Updated.IsZero() || edit.Updated.Before(cur.Published) {
		return fmt.Errorf("%w: Update without a newer updated time", ErrMalformed)
	}
	saved, _, err := p.Courses.SavePost(ctx, tx, edit)
	if err != nil || !saved.Updated.Equal(edit.Updated) {
		return err // unchanged: a replay or a stale edit
	}
	c, ok, err := p.localCourse(ctx, cur.CourseIRI)
	if err != nil || !ok {
		return err
	}
	return p.Sender.AnnounceToMembers(ctx, tx, c, in.Activity, false)
}
