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
	"github.com/colearn/colearn/outbox"
)

// proposedArticle is the part of a co-author's Article the course reads:
// the title, a plain-text summary and the Markdown source. Everything else
// (content, links, attachments, estimated time) is the course's to render
// or keep.
type proposedArticle struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Summary string `json:"summary"`
	Source  struct {
		Content   string `json:"content"`
		MediaType string `json:"mediaType"`
	} `json:"source"`
}

// syllabusChange applies a co-author's Create, Update or Delete of a
// module, sent to a local course (its target is the course's modules
// collection). The course checks the sender's grant in the same
// transaction as the change, applies it as a revision credited to the
// sender, re-publishes it as the course to its followers and answers the
// sender with Accept; anything refused (no grant, a stale base revision, a
// bad draft) is answered with Reject and changes nothing, but a text
// refused for a conflict is kept for the author.
func (p *Processor) syllabusChange(ctx context.Context, tx pgx.Tx, in *Incoming) (bool, error) {
	slug, ok := p.URLs.SyllabusCourse(in.rawString("target"))
	if !ok {
		return false, nil
	}
	c, err := p.Courses.CourseBySlug(ctx, slug)
	if errors.Is(err, courses.ErrNotFound) {
		return true, fmt.Errorf("change of %s: %w", in.rawString("target"), errIgnored)
	}
	if err != nil {
		return true, err
	}
	sender, err := p.actorOf(in, in.Actor, false) // fetched outside the transaction (fetch.go)
	if err != nil {
		return true, err
	}
	author := courses.Author{IRI: sender.IRI, Name: sender.DisplayName(), Server: federation.Origin(sender.IRI)}
	var m courses.Module
	var draft courses.ModuleDraft
	var base int
	t := vocab.ActivityVocabularyType(in.Type)
	err = pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		var err error
		m, draft, base, err = p.applyChange(ctx, sp, in, c, author)
		if err != nil {
			return err
		}
		if m.Retired {
			t = vocab.DeleteType
		}
		return p.publishModule(ctx, sp, c, m, t)
	})
	if err != nil && !refusal(err) {
		return true, err
	}
	if err != nil {
		return true, p.refuse(ctx, tx, in, c, sender, author, draft, base, err)
	}
	courseIRI := p.URLs.Course(c.Slug)
	return true, p.courseSends(ctx, tx, c, []string{sender.Inbox}, map[string]any{
		"id": p.URLs.Activity(federation.NewID()), "type": "Accept", "actor": courseIRI, "object": in.ID,
		"result": p.URLs.Module(c.Slug, m.ID), "revision": m.Revision, "to": []string{sender.IRI},
	})
}

// refusal reports whether err is the course saying no (as opposed to a
// failure worth trying again).
func refusal(err error) bool {
	var ve *courses.ValidationError
	return errors.Is(err, courses.ErrForbidden) || errors.Is(err, courses.ErrConflict) || errors.Is(err, courses.ErrNotFound) ||
		errors.Is(err, courses.ErrRetired) || errors.Is(err, ErrMalformed) || errors.As(err, &ve)
}

// applyChange runs the domain change an activity asks for, as author.
func (p *Processor) applyChange(ctx context.Context, tx pgx.Tx, in *Incoming, c courses.Course, author courses.Author) (courses.Module, courses.ModuleDraft, int, error) {
	var a proposedArticle
	if in.Type != "Delete" {
		if err := json.Unmarshal(in.raw["object"], &a); err != nil || a.Type != "Article" {
			return courses.Module{}, courses.ModuleDraft{}, 0, fmt.Errorf("%w: the object of a module change is an embedded Article", ErrMalformed)
		}
		if a.Source.MediaType != "" && a.Source.MediaType != "text/markdown" {
			return courses.Module{}, courses.ModuleDraft{}, 0, fmt.Errorf("%w: the source is text/markdown, not %q", ErrMalformed, a.Source.MediaType)
		}
	}
	d := courses.ModuleDraft{Title: a.Name, Summary: a.Summary, Body: a.Source.Content}
	if in.Type == "Create" {
		m, err := p.Courses.AddModule(ctx, tx, c.ID, author, d)
		return m, d, 0, err
	}
	iri := in.ObjectIRI()
	id, ok := p.URLs.ModuleID(c.Slug, iri)
	if !ok {
		return courses.Module{}, d, 0, fmt.Errorf("%s is not a module of %s: %w", iri, c.Slug, courses.ErrNotFound)
	}
	cur, err := p.Courses.ModuleOf(ctx, tx, c.ID, id)
	if err != nil {
		return courses.Module{}, d, 0, err
	}
	if in.Type == "Delete" {
		m, err := p.Courses.RetireModule(ctx, tx, id, author)
		return m, d, 0, err
	}
	var base int
	if json.Unmarshal(in.raw["baseRevision"], &base) != nil || base < 1 {
		return courses.Module{}, d, 0, fmt.Errorf("%w: an Update of a module names its baseRevision", ErrMalformed)
	}
	// What the proposal does not carry stays as it is.
	d.EstimatedMinutes, d.Links, d.Attachments = cur.EstimatedMinutes, cur.Links, cur.Attachments
	m, err := p.Courses.EditModule(ctx, tx, id, author, base, d)
	return m, d, base, err
}

// refuse answers a refused change with Reject naming why; a conflict's
// Reject names the current revision and embeds the current Article, and
// the refused text is kept on the course's side too.
func (p *Processor) refuse(ctx context.Context, tx pgx.Tx, in *Incoming, c courses.Course, sender federation.RemoteActor,
	author courses.Author, d courses.ModuleDraft, base int, why error) error {
	courseIRI := p.URLs.Course(c.Slug)
	act := map[string]any{
		"id": p.URLs.Activity(federation.NewID()), "type": "Reject", "actor": courseIRI, "object": in.ID,
		"summary": why.Error(), "to": []string{sender.IRI},
	}
	var ce *courses.ConflictError
	if errors.As(why, &ce) {
		if _, err := p.Courses.RecordConflict(ctx, tx, author.IRI, d, why); err != nil {
			return err
		}
		m, err := p.Courses.ModuleOf(ctx, tx, c.ID, ce.ModuleID)
		if err != nil {
			return err
		}
		authors, err := p.Courses.ModuleAuthors(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		article, err := p.URLs.ModuleDocument(federation.ArticleFor(p.URLs, p.Courses.Content(), c, m, authors))
		if err != nil {
			return err
		}
		act["revision"] = ce.Current
		act["result"] = json.RawMessage(stripContext(article))
	}
	p.Logger.Info("module change refused", "course", c.Slug, "actor", in.Actor, "activity", in.ID, "reason", why)
	return p.courseSends(ctx, tx, c, []string{sender.Inbox}, act)
}

// stripContext drops the @context of an embedded document.
func stripContext(doc []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return doc
	}
	delete(m, "@context")
	out, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return out
}

// publishModule sends Create, Update or Delete of m's Article from the
// course to its members and followers, as a local edit does.
func (p *Processor) publishModule(ctx context.Context, tx pgx.Tx, c courses.Course, m courses.Module, t vocab.ActivityVocabularyType) error {
	authors, err := p.Courses.ModuleAuthors(ctx, tx, m.ID)
	if err != nil {
		return err
	}
	id := p.URLs.Activity(federation.NewID())
	body, err := p.URLs.ModuleActivity(id, t, federation.ArticleFor(p.URLs, p.Courses.Content(), c, m, authors))
	if err != nil {
		return err
	}
	return p.Sender.Outbox.Publish(ctx, tx, outbox.Activity{
		ID: id, Type: string(t), ActorIRI: p.URLs.Course(c.Slug), KeyOwner: c.Slug, Body: body, Public: true, FollowersOf: c.ID,
	})
}

// courseSends publishes act from local course c to inboxes.
func (p *Processor) courseSends(ctx context.Context, tx pgx.Tx, c courses.Course, inboxes []string, act map[string]any) error {
	body, err := federation.JSONActivity(act)
	if err != nil {
		return err
	}
	return p.Sender.Outbox.Publish(ctx, tx, outbox.Activity{ID: act["id"].(string), Type: act["type"].(string),
		ActorIRI: p.URLs.Course(c.Slug), KeyOwner: c.Slug, Body: body, Inboxes: inboxes})
}

// editAnswered records a remote course's Accept or Reject of a change a
// local author sent it. Only that course can answer (the signed actor must
// be the course the change went to). A conflict's Reject carries the
// current Article, embedded by the course on its own origin: its title
// and Markdown are kept beside the author's text.
func (p *Processor) editAnswered(ctx context.Context, tx pgx.Tx, in *Incoming) (bool, error) {
	mine, err := p.Courses.IsRemoteEdit(ctx, tx, in.Actor, in.ObjectIRI())
	if err != nil || !mine {
		return false, err
	}
	var revision int
	_ = json.Unmarshal(in.raw["revision"], &revision)
	var current proposedArticle
	if in.Type == "Reject" && json.Unmarshal(in.raw["result"], &current) == nil && !federation.SameOrigin(current.ID, in.Actor) {
		current = proposedArticle{} // not the course's to say
	}
	_, err = p.Courses.AnswerRemoteEdit(ctx, tx, in.Actor, in.ObjectIRI(), in.Type == "Accept", in.rawString("summary"),
		revision, current.Name, current.Source.Content)
	return true, err
}
