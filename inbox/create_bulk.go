package inbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/outbox"
)

// Applying Creates in bulk. The hot path of a busy course is its members
// posting in its discussion: a Create of a new top-level Note, which the
// course stores and Announces to its followers. Applied one at a time
// (create.go) that is about ten statements per activity; applied in bulk it
// is a few per batch, whatever the number of posts:
//
//   - bulkCreateOf decides, from the activity alone and with no statement
//     (the course is read once per batch, batch_courses.go), whether the
//     Create is plainly one of those: every check create.go makes before it
//     stores a post that needs no data of the database passes here too,
//     and anything else is left to create.go;
//   - applyCreates then stores the posts with one courses.CreatePosts
//     statement, which also checks membership (CanPost), tombstones and
//     duplicate ids over the whole set, and announces those it created with
//     outbox.Sender.AnnouncePosts (one statement for post_announces, one
//     for outbox_activities; the fan-out jobs join the batch's single River
//     insert, and the change notices its single flush);
//   - every Create the statement left out (not a member, tombstoned,
//     already stored, invalid) is applied by create.go after it, in batch
//     order, and reaches the outcome create.go gives it alone.
//
// So the bulk path is exact: what it stores is what create.go would have
// stored for the same activities in the same order. The posts it leaves
// out cannot depend on those it creates (they have other ids; a repeated
// id is created by its first occurrence and the others are left out), and
// a batch applies whatever is not a bulk Create only after the bulk Creates
// before it are stored (batch_apply.go), so each actor's activities keep
// their order. The set runs in one savepoint, not one per activity; if its
// statements fail, it rolls back and every Create of the set goes through
// create.go instead. TestBulkCreatesMatchOneByOne applies one mixed batch
// both ways and compares everything stored.
//
// The set's statements are not pipelined (pgx.Batch): each needs the one
// before it (the Announces only of the posts created) except the two
// announce inserts, and a whole batch now makes about a dozen round trips
// for about as many activities, where PostgreSQL's work per row dominates.

// bulkCreate is a Create that applyCreates may store and announce: the
// batch's job index, the post as create.go would save it, and its course.
type bulkCreate struct {
	job    int
	post   courses.Post
	course courses.Course
}

// bulkCreateOf returns the post in as create.go would store it when in is
// a Create that the bulk path covers: an embedded Note or Article of the
// actor's own origin (no fetch, so no tombstone check before one),
// attributed to the actor, addressed to the public and to a local course
// (found from its audience, to, cc or context, not through a parent post),
// not a reply, not a lesson of a remote course, not a co-author's change
// of a syllabus, and whose author document is already at hand. Anything
// else, and any error, is ok false: create.go applies it (and asks for
// what it needs, or refuses it, with its own words).
func (p *Processor) bulkCreateOf(ctx context.Context, tx pgx.Tx, in *Incoming) (post courses.Post, c courses.Course, ok bool) {
	if in.Type != "Create" || in.Activity == nil || !in.objectEmbedded() {
		return courses.Post{}, courses.Course{}, false
	}
	if _, syllabus := p.URLs.SyllabusCourse(in.rawString("target")); syllabus {
		return courses.Post{}, courses.Course{}, false // coauthor.go
	}
	o, err := vocab.ToObject(in.Activity.Object)
	if err != nil || (o.Type != vocab.NoteType && o.Type != vocab.ArticleType) || o.InReplyTo != nil ||
		moduleOfCourse(o, in.Actor) || attributedTo(o) != in.Actor || !mayAuthor(o.ID.String(), in.Actor) {
		return courses.Post{}, courses.Course{}, false
	}
	doc := in.objectJSON(o.ID.String())
	if !isPublic(doc) {
		return courses.Post{}, courses.Course{}, false
	}
	c, local, err := p.courseOf(ctx, tx, o)
	if err != nil || !local {
		return courses.Post{}, courses.Course{}, false
	}
	author, err := p.actorOf(in, in.Actor, false) // a needFetch when not at hand
	if err != nil {
		return courses.Post{}, courses.Course{}, false
	}
	post = postFrom(o, doc, p.URLs.Course(c.Slug), author)
	post.Updated = post.Updated.UTC()
	return post, c, true
}

// applyCreates stores and announces the posts of set (see above), in a
// savepoint of tx, and returns which of them it applied. Those it did not
// are for create.go. It fails only when the transaction can no longer be
// used; a failure of its own statements rolls its savepoint back and
// applies none of set.
func (p *Processor) applyCreates(ctx context.Context, tx pgx.Tx, set []bulkCreate) ([]bool, error) {
	applied := make([]bool, len(set))
	offered := make([]courses.CoursePost, len(set))
	for i, b := range set {
		offered[i] = courses.CoursePost{Post: b.post, Course: b.course}
	}
	mark := outbox.FanoutsDeferred(ctx)
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) (err error) {
		defer func() { // see panic.go
			if v := recover(); v != nil {
				p.logPanic(v, "applying Creates in bulk panicked", "activities", len(set))
				err = fmt.Errorf("applying %d Creates in bulk panicked", len(set))
			}
		}()
		saved, created, err := p.Courses.CreatePosts(ctx, sp, offered)
		if err != nil {
			return err
		}
		var boosts []outbox.Boost
		for i := range set {
			if created[i] {
				boosts = append(boosts, outbox.Boost{Course: set[i].course, PostIRI: saved[i].IRI})
			}
		}
		copy(applied, created)
		return p.Sender.AnnouncePosts(ctx, sp, boosts)
	})
	if err != nil {
		outbox.DropFanoutsAfter(ctx, mark)
		clear(applied)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.Logger.Warn("applying Creates in bulk failed; applying them one by one", "activities", len(set), "err", err)
	}
	return applied, nil
}
