package credential_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/federation/credential"
)

// issuer is a test issuer: a course with a key, a status list and the
// documents a verifier would fetch from its server.
type issuer struct {
	t      testing.TB
	canon  *credential.Canonicalizer
	key    ed25519.PrivateKey
	vm     credential.VerificationMethod
	prof   credential.Profile
	list   *credential.StatusList
	served map[string][]byte
}

const courseIRI = "https://learn.example/courses/intro-go"

func newIssuer(t testing.TB) *issuer {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	is := &issuer{
		t: t, canon: newCanon(t), key: priv,
		vm:   credential.VerificationMethod{ID: courseIRI + "#ed25519-key", Controller: courseIRI, Key: pub},
		prof: credential.Profile{ID: courseIRI, Name: "Intro to Go", URL: courseIRI},
		list: credential.NewStatusList(), served: map[string][]byte{},
	}
	is.publishList()
	return is
}

func (is *issuer) ResolveMethod(_ context.Context, id string) (credential.VerificationMethod, error) {
	if id == is.vm.ID {
		return is.vm, nil
	}
	return credential.VerificationMethod{}, fmt.Errorf("no key %s: %w", id, credential.ErrKeyNotFound)
}

func (is *issuer) FetchStatusList(_ context.Context, url string) ([]byte, error) {
	if b, ok := is.served[url]; ok {
		return b, nil
	}
	return nil, errors.New("404")
}

func (is *issuer) sign(doc map[string]any) []byte {
	is.t.Helper()
	signed, err := is.canon.AddProof(doc, is.key, credential.ProofOptions{VerificationMethod: is.vm.ID, Created: time.Now()})
	if err != nil {
		is.t.Fatal(err)
	}
	b, _ := json.Marshal(signed)
	return b
}

func (is *issuer) publishList() {
	url := courseIRI + "/status/revocation"
	is.served[url] = is.sign(credential.StatusListCredential(url, is.prof, time.Now().Add(-time.Hour), is.list))
}

func (is *issuer) badge() credential.Badge {
	return credential.Badge{
		ID: "https://learn.example/credentials/abc", Issuer: is.prof,
		ValidFrom: time.Now().Add(-time.Hour).Truncate(time.Second),
		Subject:   "https://other.example/users/bea",
		Achievement: credential.Achievement{
			ID: courseIRI + "/achievements/go-basics", Name: "Go basics", Description: "Writes small Go programs.",
			Criteria: "Finished **every** exercise.", Image: "https://learn.example/badge.png", Tags: []string{"go"},
		},
		Evidence: []credential.Evidence{{Narrative: "Wrote a web server."}},
		Status:   credential.StatusEntry(courseIRI+"/status/revocation", 7),
	}
}

func (is *issuer) verifier() *credential.Verifier {
	return &credential.Verifier{Canon: is.canon, Keys: is, Status: is, Lists: credential.NewStatusListCache()}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	r := is.verifier().Verify(context.Background(), is.sign(is.badge().Document()))
	if !r.Valid {
		t.Fatalf("own credential does not verify: %+v", r.Checks)
	}
	if r.Achievement != "Go basics" || r.Subject != "https://other.example/users/bea" || r.IssuerID != courseIRI {
		t.Fatalf("report: %+v", r)
	}
}

// Every field a tamper could change is covered by the proof.
func TestEverySingleFieldTamperIsDetected(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	signed := is.sign(is.badge().Document())
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	_ = other
	cases := []struct {
		name  string
		edit  func(d map[string]any)
		check string
	}{
		{"subject", func(d map[string]any) { sub(d)["id"] = "https://evil.example/users/mallory" }, credential.CheckProof},
		{"achievement name", func(d map[string]any) { ach(d)["name"] = "Go expert" }, credential.CheckProof},
		{"achievement criteria", func(d map[string]any) { ach(d)["criteria"].(map[string]any)["narrative"] = "nothing" }, credential.CheckProof},
		{"credential name", func(d map[string]any) { d["name"] = "Go expert" }, credential.CheckProof},
		{"issuer name", func(d map[string]any) { d["issuer"].(map[string]any)["name"] = "Harvard" }, credential.CheckProof},
		{"issuer id", func(d map[string]any) { d["issuer"].(map[string]any)["id"] = "https://evil.example/courses/x" }, credential.CheckKey},
		{"validFrom", func(d map[string]any) { d["validFrom"] = "2020-01-01T00:00:00Z" }, credential.CheckProof},
		{"validUntil added", func(d map[string]any) { d["validUntil"] = "2999-01-01T00:00:00Z" }, credential.CheckProof},
		{"evidence", func(d map[string]any) { d["evidence"].([]any)[0].(map[string]any)["narrative"] = "x" }, credential.CheckProof},
		{"status index", func(d map[string]any) { d["credentialStatus"].(map[string]any)["statusListIndex"] = "8" }, credential.CheckProof},
		{"credential id", func(d map[string]any) { d["id"] = "https://learn.example/credentials/xyz" }, credential.CheckProof},
		{"proof value", func(d map[string]any) {
			p := d["proof"].(map[string]any)
			v := []byte(p["proofValue"].(string))
			v[10] ^= 1
			p["proofValue"] = string(v)
		}, credential.CheckProof},
		{"proof created", func(d map[string]any) { d["proof"].(map[string]any)["created"] = "2021-01-01T00:00:00Z" }, credential.CheckProof},
		{"verification method", func(d map[string]any) {
			d["proof"].(map[string]any)["verificationMethod"] = courseIRI + "#other-key"
		}, credential.CheckKey},
		{"undefined extra term", func(d map[string]any) { d["grade"] = "A+" }, credential.CheckProof},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d map[string]any
			json.Unmarshal(signed, &d)
			c.edit(d)
			b, _ := json.Marshal(d)
			r := is.verifier().Verify(context.Background(), b)
			if r.Valid {
				t.Fatal("tampered credential verifies")
			}
			if f := r.Failed(); f == nil || f.Name != c.check {
				t.Fatalf("failed at %+v, want the %s check; checks %+v", f, c.check, r.Checks)
			}
		})
	}
}

func sub(d map[string]any) map[string]any { return d["credentialSubject"].(map[string]any) }
func ach(d map[string]any) map[string]any { return sub(d)["achievement"].(map[string]any) }

func TestValidityWindowAndRevocation(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	expired := is.badge()
	expired.ValidFrom = time.Now().Add(-48 * time.Hour)
	expired.ValidUntil = time.Now().Add(-24 * time.Hour)
	future := is.badge()
	future.ValidFrom = time.Now().Add(24 * time.Hour)
	revoked := is.badge()
	revoked.Status = credential.StatusEntry(courseIRI+"/status/revocation", 42)
	if err := is.list.Set(42); err != nil {
		t.Fatal(err)
	}
	is.publishList()
	for _, c := range []struct {
		name  string
		b     credential.Badge
		check string
		says  string
	}{
		{"expired", expired, credential.CheckValidity, "expired on"},
		{"not yet valid", future, credential.CheckValidity, "not valid before"},
		{"revoked", revoked, credential.CheckStatus, "revoked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := is.verifier().Verify(context.Background(), is.sign(c.b.Document()))
			f := r.Failed()
			if r.Valid || f == nil || f.Name != c.check || !strings.Contains(f.Detail, c.says) {
				t.Fatalf("want %s failing with %q, got %+v", c.check, c.says, r.Checks)
			}
			if r.Check(credential.CheckProof).OK != true {
				t.Fatalf("the proof itself is fine: %+v", r.Checks)
			}
		})
	}
	// The unrevoked entry of the same list still passes.
	if r := is.verifier().Verify(context.Background(), is.sign(is.badge().Document())); !r.Valid {
		t.Fatalf("entry 7 is not revoked: %+v", r.Checks)
	}
}

func TestUnresolvableKeyFailsClearly(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	signed := is.sign(is.badge().Document())
	for _, v := range []*credential.Verifier{
		{Canon: is.canon, Status: is}, // offline, no --key
		{Canon: is.canon, Keys: resolverFunc(func(id string) (credential.VerificationMethod, error) {
			return credential.VerificationMethod{}, fmt.Errorf("fetch %s: connection refused: %w", id, credential.ErrKeyNotFound)
		}), Status: is},
	} {
		r := v.Verify(context.Background(), signed)
		f := r.Failed()
		if r.Valid || f == nil || f.Name != credential.CheckKey || !strings.Contains(f.Detail, is.vm.ID) {
			t.Fatalf("want the issuer key check failing and naming the key, got %+v", r.Checks)
		}
		if !r.Check(credential.CheckProof).Skipped {
			t.Fatalf("proof must be reported as not checked: %+v", r.Checks)
		}
	}
	// Given offline, the same key verifies.
	v := &credential.Verifier{Canon: is.canon, Offline: []credential.VerificationMethod{is.vm}, Status: is}
	if r := v.Verify(context.Background(), signed); !r.Valid {
		t.Fatalf("offline key: %+v", r.Checks)
	}
}

type resolverFunc func(id string) (credential.VerificationMethod, error)

func (f resolverFunc) ResolveMethod(_ context.Context, id string) (credential.VerificationMethod, error) {
	return f(id)
}

// A key that the issuer does not control is refused even if it verifies.
func TestKeyOfAnotherControllerIsRefused(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	mallory := newIssuer(t)
	mallory.vm.Controller = "https://evil.example/users/mallory"
	mallory.vm.ID = "https://evil.example/users/mallory#ed25519-key"
	doc, _ := mallory.canon.AddProof(is.badge().Document(), mallory.key, credential.ProofOptions{VerificationMethod: mallory.vm.ID, Created: time.Now()})
	b, _ := json.Marshal(doc)
	v := &credential.Verifier{Canon: is.canon, Offline: []credential.VerificationMethod{mallory.vm}, Status: is}
	r := v.Verify(context.Background(), b)
	if f := r.Failed(); r.Valid || f == nil || f.Name != credential.CheckKey || !strings.Contains(f.Detail, "not by the issuer") {
		t.Fatalf("%+v", r.Checks)
	}
}

// A did:key issuer resolves offline: no resolver, no network.
func TestDIDKeyIssuerVerifiesOffline(t *testing.T) {
	t.Parallel()
	canon := newCanon(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	did, vm := credential.DIDKey(pub)
	b := credential.Badge{
		ID: "urn:uuid:6f1c1b7e-0d9a-4c55-9b7a-3c2f1f0e9a11", Issuer: credential.Profile{ID: did, Name: "Offline issuer"},
		ValidFrom: time.Now().Add(-time.Minute), Subject: "did:example:learner",
		Achievement: credential.Achievement{ID: "urn:uuid:0e6a", Name: "Offline", Description: "d", Criteria: "c"},
	}
	signed, err := canon.AddProof(b.Document(), priv, credential.ProofOptions{VerificationMethod: vm, Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(signed)
	v := &credential.Verifier{Canon: canon}
	if r := v.Verify(context.Background(), body); !r.Valid {
		t.Fatalf("%+v", r.Checks)
	}
	// A did:key whose fragment names another key is refused.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	_, otherVM := credential.DIDKey(other)
	signed["proof"].(map[string]any)["verificationMethod"] = did + "#" + otherVM[len("did:key:"):len("did:key:")+48]
	body, _ = json.Marshal(signed)
	if r := v.Verify(context.Background(), body); r.Valid || r.Failed().Name != credential.CheckKey {
		t.Fatalf("%+v", r.Checks)
	}
}

// One Verifier serves many goroutines: its caches (parsed contexts, IRI
// verdicts, status lists) are shared (run with -race).
func TestConcurrentVerification(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	v := is.verifier()
	good := is.sign(is.badge().Document())
	var bad map[string]any
	json.Unmarshal(good, &bad)
	sub(bad)["id"] = "https://evil.example/users/mallory"
	tampered, _ := json.Marshal(bad)
	errs := make(chan error, 16)
	for g := range 16 {
		go func() {
			for range 5 {
				if !v.Verify(context.Background(), good).Valid {
					errs <- fmt.Errorf("goroutine %d: the credential does not verify", g)
					return
				}
				if r := v.Verify(context.Background(), tampered); r.Valid || r.Failed().Name != credential.CheckProof {
					errs <- fmt.Errorf("goroutine %d: the tampered credential: %+v", g, r.Checks)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
