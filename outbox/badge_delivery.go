package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// badgeContext is the @context of the activities that carry badges.
var badgeContext = []any{"https://www.w3.org/ns/activitystreams", map[string]any{"colearn": federation.Namespace}}

// AwardNoteIRI and RevocationNoteIRI are the ids of the direct Notes that
// tell a learner on Mastodon (or any non-colearn server) about a badge.
func (a *Actions) AwardNoteIRI(publicID string) string { return a.CredentialIRI(publicID) + "/note" }

// RevocationNoteIRI is the id of the Note telling of a revocation.
func (a *Actions) RevocationNoteIRI(publicID string) string {
	return a.CredentialIRI(publicID) + "/revocation-note"
}

// BadgeNote renders the direct Note about an award (revoked false) or its
// revocation, as it is delivered and as its id serves it.
func (a *Actions) BadgeNote(c courses.Course, ach courses.Achievement, award courses.Award, revoked bool) map[string]any {
	courseIRI := a.urls().Course(c.Slug)
	page := a.CredentialIRI(award.PublicID)
	mention := fmt.Sprintf(`<span class="h-card"><a href="%s" class="u-url mention">@%s</a></span>`,
		html.EscapeString(award.RecipientIRI), html.EscapeString(mentionName(award)))
	id, text := a.AwardNoteIRI(award.PublicID), "you earned the badge"
	published := award.IssuedAt
	if revoked {
		id, text = a.RevocationNoteIRI(award.PublicID), "the course revoked the badge"
		if award.RevokedAt != nil {
			published = *award.RevokedAt
		}
	}
	content := fmt.Sprintf(`<p>%s %s <strong>%s</strong> of <a href="%s">%s</a>.</p><p>Verify it: <a href="%s">%s</a></p>`,
		mention, text, html.EscapeString(ach.Name), html.EscapeString(courseIRI), html.EscapeString(c.Title),
		html.EscapeString(page), html.EscapeString(page))
	note := map[string]any{
		"@context":     badgeContext,
		"id":           id,
		"type":         "Note",
		"attributedTo": courseIRI,
		"to":           []any{award.RecipientIRI},
		"content":      content,
		"url":          page,
		"published":    published.UTC().Format("2006-01-02T15:04:05Z"),
		"tag":          []any{map[string]any{"type": "Mention", "href": award.RecipientIRI, "name": "@" + mentionName(award)}},
	}
	if ach.ImageURL != "" && !revoked {
		note["attachment"] = []any{map[string]any{"type": "Image", "url": ach.ImageURL, "name": ach.Name}}
	}
	return note
}

// mentionName is the learner's handle without the leading @ (name@host).
func mentionName(award courses.Award) string {
	host := ""
	if o := federation.Origin(award.RecipientIRI); o != "" {
		host = strings.SplitN(o, "://", 2)[1]
	}
	seg := award.RecipientIRI[strings.LastIndex(award.RecipientIRI, "/")+1:]
	return seg + "@" + host
}

// deliverAward sends the award to the learner's inbox: the credential in an
// Offer to colearn instances, a direct Note (Create) elsewhere.
func (a *Actions) deliverAward(ctx context.Context, tx pgx.Tx, c courses.Course, ach courses.Achievement, award courses.Award) error {
	return a.deliverBadge(ctx, tx, c, ach, award, "Offer", json.RawMessage(award.Credential), false)
}

// deliverRevocation tells the learner's server that a credential was
// revoked: Remove of the credential for colearn instances (which check the
// status list themselves), a direct Note elsewhere.
func (a *Actions) deliverRevocation(ctx context.Context, tx pgx.Tx, c courses.Course, ach courses.Achievement, award courses.Award) error {
	return a.deliverBadge(ctx, tx, c, ach, award, "Remove", a.CredentialIRI(award.PublicID), true)
}

// deliverBadge sends colearnType of object to a colearn learner's server,
// or the badge Note (the revocation's when revoked) to any other.
func (a *Actions) deliverBadge(ctx context.Context, tx pgx.Tx, c courses.Course, ach courses.Achievement, award courses.Award, colearnType string, object any, revoked bool) error {
	act := map[string]any{
		"@context": badgeContext, "id": a.urls().Activity(federation.NewID()),
		"actor": a.urls().Course(c.Slug), "to": []any{award.RecipientIRI},
	}
	if award.ColearnPeer {
		act["type"], act["object"], act["target"] = colearnType, object, award.RecipientIRI
	} else {
		note := a.BadgeNote(c, ach, award, revoked)
		delete(note, "@context")
		act["type"], act["object"] = "Create", note
	}
	return a.publishRaw(ctx, tx, c, act, award.RecipientInbox)
}

// publishRaw publishes an activity colearn renders itself (go-ap would drop
// the embedded credential) as course c, to one inbox, not listed publicly.
func (a *Actions) publishRaw(ctx context.Context, tx pgx.Tx, c courses.Course, act map[string]any, inbox string) error {
	body, err := json.Marshal(act)
	if err != nil {
		return err
	}
	return a.Sender.publish(ctx, tx, Activity{
		ID: act["id"].(string), Type: act["type"].(string), ActorIRI: a.urls().Course(c.Slug), KeyOwner: c.Slug,
		Body: body, Inboxes: []string{inbox},
	})
}
