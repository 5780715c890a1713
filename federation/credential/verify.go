package credential

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// KeyResolver resolves a verification method id (an actor's
// "...#ed25519-key", or anything but did:key, which resolves offline) to
// its key. Implementations fetch the controller document from its own
// origin and use MethodFromController; they return an error wrapping
// ErrKeyNotFound when the key cannot be had.
type KeyResolver interface {
	ResolveMethod(ctx context.Context, vmID string) (VerificationMethod, error)
}

// StatusFetcher fetches a status list credential from its URL.
type StatusFetcher interface {
	FetchStatusList(ctx context.Context, url string) ([]byte, error)
}

// Names of the checks a Report lists, in order.
const (
	CheckFormat   = "format"
	CheckKey      = "issuer key"
	CheckProof    = "proof"
	CheckValidity = "validity"
	CheckStatus   = "status"
)

// Check is the outcome of one verification step. A check that could not
// run because an earlier one failed is reported with Skipped.
type Check struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"`
	Detail  string `json:"detail"`
	// Unavailable means the check failed because a document (the key, the
	// status list) could not be fetched: it may pass later.
	Unavailable bool `json:"unavailable,omitempty"`
}

// Report is the result of verifying a credential: Valid only when every
// check passed.
type Report struct {
	Valid   bool    `json:"valid"`
	Revoked bool    `json:"revoked"`
	Checks  []Check `json:"checks"`
	// What the credential says, for display; trustworthy only when Valid.
	ID          string    `json:"id,omitempty"`
	Name        string    `json:"name,omitempty"`
	IssuerID    string    `json:"issuer,omitempty"`
	IssuerName  string    `json:"issuerName,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Achievement string    `json:"achievement,omitempty"`
	Description string    `json:"description,omitempty"`
	Image       string    `json:"image,omitempty"`
	ValidFrom   time.Time `json:"validFrom,omitzero"`
	ValidUntil  time.Time `json:"validUntil,omitzero"`
}

// Failed returns the first failed check, or nil when the report is valid.
func (r Report) Failed() *Check {
	for i := range r.Checks {
		if !r.Checks[i].OK && !r.Checks[i].Skipped {
			return &r.Checks[i]
		}
	}
	return nil
}

// Check returns the check called name.
func (r Report) Check(name string) Check {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return Check{Name: name}
}

// Verifier checks Verifiable Credentials secured with eddsa-rdfc-2022:
// shape, issuer key (the verification method must be controlled by the
// issuer), proof, validity window and revocation status. It is safe for
// concurrent use.
type Verifier struct {
	Canon *Canonicalizer
	// Keys resolves verification methods that are not did:key; nil means
	// only did:key and Offline keys resolve.
	Keys KeyResolver
	// Offline are verification methods supplied by the caller (colearn
	// badge verify --key), used before Keys.
	Offline []VerificationMethod
	// Status fetches status lists; nil means a credential with a status
	// cannot be checked, which fails the status check.
	Status StatusFetcher
	// NowFunc is the clock (time.Now when nil).
	NowFunc func() time.Time
	// Lists, when set, remembers status lists already verified, by the
	// SHA-256 of their bytes: every credential of an issuer shares one
	// list, so a list is checked once, not once per credential.
	Lists *StatusListCache
}

func (v *Verifier) now() time.Time {
	if v.NowFunc != nil {
		return v.NowFunc()
	}
	return time.Now()
}

// Verify checks the credential in data and reports each check. It never
// returns an error: every failure is a failed check with its reason.
func (v *Verifier) Verify(ctx context.Context, data []byte) Report {
	var r Report
	add := func(name string, err error, okDetail string) bool {
		c := Check{Name: name, OK: err == nil, Detail: okDetail}
		if err != nil {
			c.Detail = err.Error()
		}
		r.Checks = append(r.Checks, c)
		return err == nil
	}
	skip := func(names ...string) Report {
		for _, n := range names {
			r.Checks = append(r.Checks, Check{Name: n, Skipped: true, Detail: "not checked: an earlier check failed"})
		}
		return r
	}
	doc, err := ParseDocument(data)
	var cred parsedCredential
	if err == nil {
		cred, err = parseCredential(doc)
	}
	r.fill(cred)
	if !add(CheckFormat, err, "a Verifiable Credential 2.0"+map[bool]string{true: " (Open Badges 3.0)"}[cred.openBadge]) {
		return skip(CheckKey, CheckProof, CheckValidity, CheckStatus)
	}
	unsecured, proof, err := SplitProof(doc)
	if err != nil {
		add(CheckKey, err, "")
		return skip(CheckProof, CheckValidity, CheckStatus)
	}
	vm, err := v.method(ctx, proof.VerificationMethod)
	keyUnavailable := err != nil
	if err == nil && vm.Controller != cred.issuer {
		err = fmt.Errorf("key %s is controlled by %s, not by the issuer %s", vm.ID, vm.Controller, cred.issuer)
	}
	if err == nil && proof.ProofPurpose != PurposeAssertion {
		err = fmt.Errorf("proof purpose is %q, not %s", proof.ProofPurpose, PurposeAssertion)
	}
	if !add(CheckKey, err, "Ed25519 key "+proof.VerificationMethod+" of the issuer") {
		r.Checks[len(r.Checks)-1].Unavailable = keyUnavailable
		return skip(CheckProof, CheckValidity, CheckStatus)
	}
	err = v.Canon.CheckSignature(unsecured, proof, vm.Key)
	if !add(CheckProof, err, Cryptosuite+" signature verifies") {
		return skip(CheckValidity, CheckStatus)
	}
	now := v.now()
	switch {
	case now.Before(cred.validFrom):
		err = fmt.Errorf("not valid before %s", cred.validFrom.Format(time.RFC3339))
	case !cred.validUntil.IsZero() && !now.Before(cred.validUntil):
		err = fmt.Errorf("expired on %s", cred.validUntil.Format(time.RFC3339))
	}
	detail := "valid from " + cred.validFrom.Format(time.RFC3339)
	if !cred.validUntil.IsZero() {
		detail += " until " + cred.validUntil.Format(time.RFC3339)
	}
	add(CheckValidity, err, detail)
	revoked, err := v.status(ctx, cred)
	var unavailable *fetchError
	statusUnavailable := errors.As(err, &unavailable)
	r.Revoked = revoked
	if err == nil && revoked {
		err = errors.New("revoked by the issuer")
	}
	detail = "not revoked"
	if cred.status == nil {
		detail = "no credentialStatus: the issuer cannot revoke it"
	}
	add(CheckStatus, err, detail)
	r.Checks[len(r.Checks)-1].Unavailable = statusUnavailable
	r.Valid = r.Failed() == nil
	return r
}

func (v *Verifier) method(ctx context.Context, vmID string) (VerificationMethod, error) {
	for _, m := range v.Offline {
		if m.ID == vmID {
			return m, nil
		}
	}
	if len(vmID) > 8 && vmID[:8] == "did:key:" {
		return ResolveDIDKey(vmID)
	}
	if v.Keys == nil {
		return VerificationMethod{}, fmt.Errorf("cannot resolve %s offline (give it with --key): %w", vmID, ErrKeyNotFound)
	}
	m, err := v.Keys.ResolveMethod(ctx, vmID)
	if err != nil {
		return VerificationMethod{}, fmt.Errorf("resolve %s: %w", vmID, err)
	}
	if m.ID != vmID {
		return VerificationMethod{}, fmt.Errorf("resolving %s gave key %s: %w", vmID, m.ID, ErrKeyNotFound)
	}
	return m, nil
}

// status checks a BitstringStatusListEntry with purpose revocation: the
// list must be a valid credential of the same issuer.
func (v *Verifier) status(ctx context.Context, cred parsedCredential) (bool, error) {
	if cred.status == nil {
		return false, nil
	}
	e := cred.status
	typ, _ := e["type"].(string)
	purpose, _ := e["statusPurpose"].(string)
	listURL, _ := e["statusListCredential"].(string)
	idx, err := strconv.Atoi(fmt.Sprint(e["statusListIndex"]))
	if typ != "BitstringStatusListEntry" || purpose != StatusPurposeRevocation || listURL == "" || err != nil || idx < 0 {
		return false, errors.New("credentialStatus is not a revocation BitstringStatusListEntry with an index and a list")
	}
	if v.Status == nil {
		return false, fmt.Errorf("cannot fetch the status list %s offline", listURL)
	}
	body, err := v.Status.FetchStatusList(ctx, listURL)
	if err != nil {
		return false, &fetchError{fmt.Errorf("status list %s: %w", listURL, err)}
	}
	list, err := v.verifiedList(ctx, listURL, body)
	if err != nil {
		return false, err
	}
	now := v.now()
	if now.Before(list.validFrom) || (!list.validUntil.IsZero() && !now.Before(list.validUntil)) {
		return false, fmt.Errorf("status list %s is outside its validity window", listURL)
	}
	if list.issuer != cred.issuer {
		return false, fmt.Errorf("status list %s is issued by %s, not by the credential's issuer", listURL, list.issuer)
	}
	return list.bits.Get(idx)
}

// verifiedList checks a status list credential's format, key and proof,
// and decodes its bits; a list seen before (same bytes) is not checked
// again.
func (v *Verifier) verifiedList(ctx context.Context, listURL string, body []byte) (verifiedList, error) {
	if l, ok := v.Lists.get(listURL, body); ok {
		return l, nil
	}
	inner := Verifier{Canon: v.Canon, Keys: v.Keys, Offline: v.Offline, NowFunc: v.NowFunc}
	lr := inner.Verify(ctx, body)
	for _, c := range lr.Checks[:3] {
		if !c.OK {
			return verifiedList{}, fmt.Errorf("status list %s: %s: %s", listURL, c.Name, c.Detail)
		}
	}
	if lr.ID != listURL {
		return verifiedList{}, fmt.Errorf("status list fetched from %s has id %q", listURL, lr.ID)
	}
	doc, _ := ParseDocument(body)
	subj, _ := doc["credentialSubject"].(map[string]any)
	enc, _ := subj["encodedList"].(string)
	if p, _ := subj["statusPurpose"].(string); p != StatusPurposeRevocation {
		return verifiedList{}, fmt.Errorf("status list %s has purpose %q", listURL, p)
	}
	bits, err := DecodeStatusList(enc)
	if err != nil {
		return verifiedList{}, fmt.Errorf("status list %s: %w", listURL, err)
	}
	l := verifiedList{issuer: lr.IssuerID, validFrom: lr.ValidFrom, validUntil: lr.ValidUntil, bits: bits}
	v.Lists.put(listURL, body, l)
	return l, nil
}

// fetchError marks a failure to fetch a document.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

// parsedCredential is what Verify reads from a credential.
type parsedCredential struct {
	id, name, issuer, issuerName, subject string
	achievement, description, image       string
	openBadge                             bool
	validFrom, validUntil                 time.Time
	status                                map[string]any
}

func (r *Report) fill(c parsedCredential) {
	r.ID, r.Name, r.IssuerID, r.IssuerName, r.Subject = c.id, c.name, c.issuer, c.issuerName, c.subject
	r.Achievement, r.Description, r.Image = c.achievement, c.description, c.image
	r.ValidFrom, r.ValidUntil = c.validFrom, c.validUntil
}

// parseCredential checks the shape VC 2.0 requires and reads what the
// checks and the pages need. Wrong types are refused, never guessed.
func parseCredential(doc map[string]any) (parsedCredential, error) {
	var c parsedCredential
	ctxs, ok := doc["@context"].([]any)
	if !ok || len(ctxs) == 0 || ctxs[0] != ContextVC {
		return c, fmt.Errorf("@context must be a list starting with %s", ContextVC)
	}
	types := stringList(doc["type"])
	if !slices.Contains(types, "VerifiableCredential") {
		return c, errors.New("type does not include VerifiableCredential")
	}
	c.openBadge = slices.Contains(types, "OpenBadgeCredential") || slices.Contains(types, "AchievementCredential")
	c.id, _ = doc["id"].(string)
	c.name, _ = doc["name"].(string)
	switch iss := doc["issuer"].(type) {
	case string:
		c.issuer = iss
	case map[string]any:
		c.issuer, _ = iss["id"].(string)
		c.issuerName, _ = iss["name"].(string)
	}
	if c.issuer == "" {
		return c, errors.New("issuer is missing or has no id")
	}
	vf, ok := doc["validFrom"].(string)
	if !ok {
		return c, errors.New("validFrom is missing or not a string")
	}
	var err error
	if c.validFrom, err = time.Parse(time.RFC3339, vf); err != nil {
		return c, fmt.Errorf("validFrom %q is not a date-time", vf)
	}
	if vu, ok := doc["validUntil"]; ok {
		s, _ := vu.(string)
		if c.validUntil, err = time.Parse(time.RFC3339, s); err != nil {
			return c, fmt.Errorf("validUntil %q is not a date-time", s)
		}
	}
	subj, ok := doc["credentialSubject"].(map[string]any)
	if !ok {
		return c, errors.New("credentialSubject is not one object")
	}
	c.subject, _ = subj["id"].(string)
	if ach, ok := subj["achievement"].(map[string]any); ok {
		c.achievement, _ = ach["name"].(string)
		c.description, _ = ach["description"].(string)
		switch img := ach["image"].(type) {
		case string:
			c.image = img
		case map[string]any:
			c.image, _ = img["id"].(string)
		}
	} else if c.openBadge {
		return c, errors.New("an Open Badges credential's subject must embed its achievement")
	}
	if st, ok := doc["credentialStatus"]; ok {
		if c.status, ok = st.(map[string]any); !ok {
			return c, errors.New("credentialStatus is not one object")
		}
	}
	return c, nil
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
