package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// announce takes in a remote group's boost of a post, or of a Create,
// Update or Delete of one, for local users enrolled in that group: a
// colearn course (which announces the post by IRI, or an embedded Update or
// Delete) or another kind of group (Lemmy announces the author's Create,
// embedded, with the Page or Note in it). Before anything is fetched, the
// group must be one that someone here is an accepted member of. An embedded
// post is believed only when its id is on the announcing group's own origin
// (the signature vouches for it); any other is fetched from its own origin
// and what was fetched decides, so a group cannot put words in another
// server's mouth. A post that is gone there is deleted here. The group
// cannot claim another group's post, and only public posts are kept.
func (p *Processor) announce(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	if ok, err := p.Courses.HasEnrollments(ctx, tx, in.Actor); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: Announce from %s, which nobody here is enrolled in", errIgnored, in.Actor)
	}
	a, err := in.announced()
	if err != nil {
		return err
	}
	cur, err := p.Courses.PostByIRI(ctx, tx, a.postIRI)
	if err == nil && cur.CourseIRI != in.Actor {
		return fmt.Errorf("post %s belongs to %s, not %s: %w", a.postIRI, cur.CourseIRI, in.Actor, courses.ErrNotOwner)
	}
	if err == nil && cur.Local {
		return nil // a local user's post, coming back from the group: this instance has it already
	}
	if err := p.Courses.Tombstoned(ctx, tx, a.postIRI); err != nil {
		return fmt.Errorf("%w: Announce of %v", errIgnored, err)
	}
	o, raw := a.embedded, a.raw
	err = nil
	if o == nil || !federation.SameOrigin(a.postIRI, in.Actor) || a.inner == vocab.DeleteType {
		o, err = p.remoteObject(in, a.postIRI)
		raw = in.fetched[a.postIRI].body
	}
	if errors.Is(err, federation.ErrGone) {
		cur, err := p.Courses.PostByIRI(ctx, tx, a.postIRI)
		if err != nil || cur.CourseIRI != in.Actor {
			return nil // never had it, or not this course's to delete
		}
		if _, err = p.Courses.DeletePost(ctx, tx, a.postIRI); err != nil {
			return err
		}
		return p.Courses.Tombstone(ctx, tx, a.postIRI, in.Actor)
	}
	if err != nil {
		return err
	}
	if o.ID.String() != a.postIRI {
		return fmt.Errorf("announced post %s: its origin serves %s: %w", a.postIRI, o.ID, courses.ErrForbidden)
	}
	if !isPostType(o) {
		return fmt.Errorf("%w: Announce of a %s", errIgnored, o.Type)
	}
	if !isPublic(raw) {
		return fmt.Errorf("announced post %s: %w", o.ID, errNotPublic)
	}
	if ok, err := p.postOfGroup(ctx, tx, o, in.Actor); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: announced post %s is neither addressed to %s nor a reply in its discussion", errIgnored, o.ID, in.Actor)
	}
	authorIRI := attributedTo(o)
	if !mayAuthor(o.ID.String(), authorIRI) {
		return fmt.Errorf("post %s is attributed to %q on another origin: %w", o.ID, authorIRI, courses.ErrForbidden)
	}
	author, err := p.actorOf(in, authorIRI, false)
	if err != nil {
		return err
	}
	post := postFrom(o, raw, in.Actor, author)
	if post.Type == string(vocab.PageType) {
		post.Type = string(vocab.NoteType) // Lemmy's titled post: kept as a Note with its name
	}
	_, _, err = p.Courses.SavePost(ctx, tx, post)
	return err
}

// postOfGroup reports whether post o belongs to the discussion of group,
// by the same rule a course applies to what it is sent: the post names the
// group (audience, to, cc or context), or replies to a post already kept
// under the group. A group cannot claim a post written for another
// community, which would then be refused to its real group as not its own.
func (p *Processor) postOfGroup(ctx context.Context, q courses.Querier, o *vocab.Object, group string) (bool, error) {
	for _, col := range []vocab.ItemCollection{o.Audience, o.To, o.CC} {
		for _, it := range col {
			if it.GetLink().String() == group {
				return true, nil
			}
		}
	}
	if o.Context != nil && o.Context.GetLink().String() == group {
		return true, nil
	}
	if o.InReplyTo == nil {
		return false, nil
	}
	parent, err := p.Courses.PostByIRI(ctx, q, o.InReplyTo.GetLink().String())
	if errors.Is(err, courses.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return parent.CourseIRI == group, nil
}

// announcement is what an Announce boosts: the post's id, the activity
// around it when the Announce wraps one (Lemmy's Create, colearn's Update
// and Delete), and the post as embedded, when it is.
type announcement struct {
	postIRI  string
	inner    vocab.ActivityVocabularyType // "" when the post is announced itself
	embedded *vocab.Object
	raw      json.RawMessage // the embedded post's JSON
}

// announced reads what in, an Announce, boosts. Activities other than
// Create, Update and Delete of a post (Lemmy announces its votes, Undo,
// Add, Remove and the rest the same way) are ignored.
func (in *Incoming) announced() (announcement, error) {
	obj := in.Activity.Object
	if obj == nil {
		return announcement{}, fmt.Errorf("%w: Announce without object", ErrMalformed)
	}
	a := announcement{postIRI: obj.GetLink().String()}
	raw := in.raw["object"]
	if obj.IsObject() && vocab.ActivityTypes.Contains(obj.GetType()) {
		inner, err := vocab.ToActivity(obj)
		if err != nil || inner.Object == nil {
			return announcement{}, fmt.Errorf("%w: announced activity without object", ErrMalformed)
		}
		switch a.inner = inner.Type; a.inner {
		case vocab.CreateType, vocab.UpdateType, vocab.DeleteType:
		default:
			return announcement{}, fmt.Errorf("%w: Announce of a %s", errIgnored, a.inner)
		}
		var act struct {
			Object json.RawMessage `json:"object"`
		}
		json.Unmarshal(raw, &act)
		obj, raw = inner.Object, act.Object
		a.postIRI = obj.GetLink().String()
	}
	if a.postIRI == "" {
		return announcement{}, fmt.Errorf("%w: announced object without id", ErrMalformed)
	}
	if obj.IsObject() {
		if o, err := vocab.ToObject(obj); err == nil && isPostType(o) {
			a.embedded, a.raw = o, raw
		}
	}
	return a, nil
}
