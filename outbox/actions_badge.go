package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/federation/credential"
)

// ErrNoRecipient means the learner a badge is for could not be found.
var ErrNoRecipient = errors.New("no such learner")

// CreateAchievement defines an achievement of c by u (owner or moderator).
func (a *Actions) CreateAchievement(ctx context.Context, u courses.User, c courses.Course, d courses.AchievementDraft) (courses.Achievement, error) {
	return a.Courses.CreateAchievement(ctx, a.Pool, c, a.userIRI(u), d)
}

// AchievementIRI is the URL an achievement is served at.
func (a *Actions) AchievementIRI(c courses.Course, ach courses.Achievement) string {
	return a.urls().Course(c.Slug) + "/achievements/" + ach.PublicID
}

// CredentialIRI is the URL a credential is served at.
func (a *Actions) CredentialIRI(publicID string) string {
	return a.urls().Base() + "/credentials/" + publicID
}

// StatusListIRI is the URL of a course's revocation status list.
func (a *Actions) StatusListIRI(c courses.Course) string {
	return a.urls().Course(c.Slug) + "/status/revocation"
}

func (a *Actions) issuer(c courses.Course) credential.Profile {
	iri := a.urls().Course(c.Slug)
	return credential.Profile{ID: iri, Name: c.Title, URL: iri}
}

// AchievementOf renders an achievement as Open Badges sees it.
func (a *Actions) AchievementOf(c courses.Course, ach courses.Achievement) credential.Achievement {
	out := credential.Achievement{
		ID: a.AchievementIRI(c, ach), Name: ach.Name, Description: ach.Description, Criteria: ach.Criteria,
		Image: ach.ImageURL, Tags: ach.Tags, Creator: a.issuer(c),
	}
	for _, al := range ach.Alignments {
		out.Alignments = append(out.Alignments, credential.Alignment(al))
	}
	return out
}

// recipient is a learner a badge goes to.
type recipient struct {
	IRI, Name, Inbox string
	User             courses.User // set for local learners
	Local            bool
	Colearn          bool // a colearn instance: it receives the credential itself
}

// findRecipient resolves a username, @name@host handle or actor IRI. It
// fetches remote actors, so it runs outside any transaction.
func (a *Actions) findRecipient(ctx context.Context, to string) (recipient, error) {
	to = strings.TrimSpace(to)
	local := func(name string) (recipient, error) {
		u, err := a.Courses.UserByUsername(ctx, name)
		if err != nil {
			return recipient{}, fmt.Errorf("%s: %w", to, ErrNoRecipient)
		}
		return recipient{IRI: a.urls().User(u.Username), Name: u.DisplayName, User: u, Local: true}, nil
	}
	var ra federation.RemoteActor
	var err error
	switch {
	case federation.Origin(to) != "":
		if a.urls().IsLocal(to) {
			name, ok := strings.CutPrefix(to, a.urls().Base()+"/users/")
			if !ok {
				return recipient{}, fmt.Errorf("%s: %w", to, ErrNoRecipient)
			}
			return local(name)
		}
		ra, err = a.Resolver.Actor(ctx, to, false)
	case strings.Contains(strings.TrimPrefix(to, "@"), "@"):
		name, host, herr := federation.SplitHandle(to)
		if herr != nil {
			return recipient{}, herr
		}
		if strings.EqualFold(host, a.urls().Host) {
			return local(name)
		}
		ra, err = a.Resolver.Handle(ctx, to)
	default:
		return local(strings.TrimPrefix(to, "@"))
	}
	if err != nil {
		return recipient{}, fmt.Errorf("%s: %w: %v", to, ErrNoRecipient, err)
	}
	r := recipient{IRI: ra.IRI, Name: ra.DisplayName(), Inbox: ra.Inbox}
	if of, ok := a.Resolver.(interface {
		Object(ctx context.Context, iri string) ([]byte, error)
	}); ok {
		if doc, err := of.Object(ctx, ra.IRI); err == nil {
			r.Colearn = isColearnActor(doc)
		}
	}
	return r, nil
}

// isColearnActor reports whether an actor document declares colearn's
// namespace in its @context, as every colearn actor does.
func isColearnActor(doc []byte) bool {
	var d struct {
		Context json.RawMessage `json:"@context"`
	}
	return json.Unmarshal(doc, &d) == nil && strings.Contains(string(d.Context), `"`+federation.Namespace+`"`)
}

// AwardBadge has u, a facilitator of c, award achievement ach to the
// learner to (a username, handle or actor IRI), who must be an accepted
// member of c, with optional evidence (a narrative, or a URL). The signed
// credential is stored and delivered in one transaction: a local learner
// finds it in their backpack, a colearn learner's instance receives it in an
// Offer, anyone else gets a direct Note linking to its verification page.
func (a *Actions) AwardBadge(ctx context.Context, u courses.User, c courses.Course, ach courses.Achievement, to, evidence string) (courses.Award, error) {
	if ach.CourseID != c.ID {
		return courses.Award{}, fmt.Errorf("achievement %s is not of %s: %w", ach.PublicID, c.Slug, courses.ErrNotFound)
	}
	r, err := a.findRecipient(ctx, to)
	if err != nil {
		return courses.Award{}, err
	}
	var award courses.Award
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		slot, err := a.Courses.PrepareAward(ctx, tx, ach, r.IRI, a.userIRI(u))
		if err != nil {
			return err
		}
		award, err = a.issue(ctx, tx, c, ach, r, slot, strings.TrimSpace(evidence), a.userIRI(u))
		return err
	})
	return award, err
}

// issue signs, stores and delivers one credential inside tx.
func (a *Actions) issue(ctx context.Context, tx pgx.Tx, c courses.Course, ach courses.Achievement, r recipient, slot courses.AwardSlot, evidence, by string) (courses.Award, error) {
	kp, err := a.Keys.Get(ctx, c.Slug)
	if err != nil {
		return courses.Award{}, err
	}
	issued := now()
	b := credential.Badge{
		ID: a.CredentialIRI(slot.PublicID), Issuer: a.issuer(c), ValidFrom: issued, Subject: r.IRI,
		Achievement: a.AchievementOf(c, ach),
		Status:      credential.StatusEntry(a.StatusListIRI(c), slot.StatusIndex),
	}
	if evidence != "" {
		if federation.Origin(evidence) != "" && !strings.ContainsAny(evidence, " \n") {
			b.Evidence = []credential.Evidence{{ID: evidence, Name: "Evidence"}}
		} else {
			b.Evidence = []credential.Evidence{{Narrative: evidence}}
		}
	}
	signed, err := a.Credentials.AddProof(b.Document(), kp.Ed25519, credential.ProofOptions{
		VerificationMethod: federation.AssertionKey(a.urls().Course(c.Slug)), Created: issued,
	})
	if err != nil {
		return courses.Award{}, fmt.Errorf("sign credential: %w", err)
	}
	body, err := json.Marshal(signed)
	if err != nil {
		return courses.Award{}, err
	}
	if r.Name == "" {
		r.Name = slot.Recipient.Name
	}
	if r.Inbox == "" {
		r.Inbox = slot.Recipient.Inbox
	}
	award, err := a.Courses.SaveAward(ctx, tx, courses.Award{
		PublicID: slot.PublicID, AchievementID: ach.ID, CourseID: c.ID, RecipientIRI: r.IRI, RecipientName: r.Name,
		RecipientInbox: r.Inbox, ColearnPeer: r.Colearn, StatusIndex: slot.StatusIndex, Evidence: evidence,
		AwardedBy: by, Credential: body, IssuedAt: issued,
	})
	if err != nil {
		return courses.Award{}, err
	}
	if r.Local {
		_, _, err = a.Courses.KeepCredential(ctx, tx, courses.BackpackItem{
			UserID: r.User.ID, CredentialID: b.ID, IssuerIRI: b.Issuer.ID, IssuerName: c.Title,
			Name: ach.Name, Description: ach.Description, ImageURL: ach.ImageURL, Credential: body,
		})
		return award, err
	}
	return award, a.deliverAward(ctx, tx, c, ach, award)
}

// RevokeBadge has u, a facilitator of the issuing course, revoke the
// credential publicID: its status list entry is set, and the revocation
// is delivered where the award was. Revoking twice sends nothing more.
func (a *Actions) RevokeBadge(ctx context.Context, u courses.User, publicID string) (courses.Award, error) {
	var award courses.Award
	err := pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		var revoked bool
		var err error
		award, revoked, err = a.Courses.RevokeAward(ctx, tx, publicID, a.userIRI(u))
		if err != nil || !revoked {
			return err
		}
		c, err := a.Courses.CourseByID(ctx, tx, award.CourseID)
		if err != nil {
			return err
		}
		if _, err := a.Courses.MarkRevoked(ctx, tx, a.CredentialIRI(publicID), a.urls().Course(c.Slug)); err != nil {
			return err
		}
		if award.RecipientInbox == "" {
			return nil // a local learner: the backpack row is all there is
		}
		ach, err := a.Courses.AchievementByID(ctx, tx, award.AchievementID)
		if err != nil {
			return err
		}
		return a.deliverRevocation(ctx, tx, c, ach, award)
	})
	a.statusLists.forget(award.CourseID)
	return award, err
}
