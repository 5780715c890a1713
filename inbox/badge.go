package inbox

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

// errBadCredential means a delivered credential did not verify; it is
// final, since the same bytes will not verify later.
var errBadCredential = fmt.Errorf("%w: credential does not verify", courses.ErrForbidden)

// badgeOffer keeps a credential that an issuer delivered to a local user
// (Offer, FEDERATION.md "Badges"). Nothing in the activity is trusted: the
// credential is verified here, against the issuer's key fetched from the
// issuer's own origin, and its status list; its issuer must be the
// activity's actor and its subject a local user.
func (p *Processor) badgeOffer(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	raw, ok := in.raw["object"]
	if !ok || len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("%w: Offer of something that is not an embedded credential", errIgnored)
	}
	var head struct {
		ID   string `json:"id"`
		Type any    `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !strings.Contains(fmt.Sprint(head.Type), "VerifiableCredential") {
		return fmt.Errorf("%w: Offer of a %v", errIgnored, head.Type)
	}
	if !federation.SameOrigin(head.ID, in.Actor) {
		return fmt.Errorf("credential %q offered by %s of another origin: %w", head.ID, in.Actor, courses.ErrForbidden)
	}
	if p.Badges == nil {
		return fmt.Errorf("%w: this instance keeps no credentials", errIgnored)
	}
	report, err := p.verifiedCredential(in, head.ID, raw)
	if err != nil {
		return err
	}
	if f := report.Failed(); f != nil {
		if f.Unavailable {
			// The issuer's server may be down: try again later.
			return fmt.Errorf("credential %s: %s: %s", head.ID, f.Name, f.Detail)
		}
		return fmt.Errorf("%w: %s: %s", errBadCredential, f.Name, f.Detail)
	}
	if report.IssuerID != in.Actor {
		return fmt.Errorf("credential issued by %s delivered by %s: %w", report.IssuerID, in.Actor, courses.ErrForbidden)
	}
	name, ok := strings.CutPrefix(report.Subject, p.URLs.Base()+"/users/")
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return fmt.Errorf("%w: credential for %s, not for a user here", errIgnored, report.Subject)
	}
	u, err := p.Courses.UserByUsername(ctx, name)
	if err != nil {
		return err
	}
	_, _, err = p.Courses.KeepCredential(ctx, tx, courses.BackpackItem{
		UserID: u.ID, CredentialID: report.ID, IssuerIRI: report.IssuerID, IssuerName: report.IssuerName,
		Name: report.Achievement, Description: report.Description, ImageURL: report.Image, Credential: raw,
	})
	return err
}

// badgeRemove applies an issuer's notice that a credential was revoked.
// The notice only says "look again": the kept credential is marked revoked
// only if its issuer's status list, fetched from the issuer, says so.
func (p *Processor) badgeRemove(ctx context.Context, tx pgx.Tx, in *Incoming) error {
	credID := in.ObjectIRI()
	var kept []byte
	err := tx.QueryRow(ctx, `SELECT credential FROM backpack WHERE credential_id = $1 AND issuer_iri = $2 LIMIT 1`, credID, in.Actor).Scan(&kept)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: Remove of %s, which no one here keeps from %s", errIgnored, credID, in.Actor)
	}
	if err != nil || p.Badges == nil {
		return err
	}
	report, err := p.verifiedCredential(in, credID, kept)
	if err != nil {
		return err
	}
	if !report.Revoked {
		return fmt.Errorf("%w: %s is not revoked in its status list (%s)", errIgnored, credID, report.Check(credential.CheckStatus).Detail)
	}
	_, err = p.Courses.MarkRevoked(ctx, tx, credID, in.Actor)
	return err
}
