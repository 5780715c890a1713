package credential_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/colearn/colearn/federation/credential"
)

// Hostile documents fail at a named check, without network and without
// hanging: contexts are never fetched, sizes and depths are capped, and
// wrong types are refused rather than guessed.
func TestHostileInputFailsCleanly(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/ld+json")
		fmt.Fprint(w, `{"@context": {"@vocab": "https://evil.example/#"}}`)
	}))
	defer srv.Close()
	valid := is.sign(is.badge().Document())
	edit := func(f func(d map[string]any)) []byte {
		var d map[string]any
		json.Unmarshal(valid, &d)
		f(d)
		b, _ := json.Marshal(d)
		return b
	}
	// A credential re-signed by the issuer itself over a remote context:
	// even a genuine signature does not make a fetched context acceptable.
	remoteSigned := func() []byte {
		d := is.badge().Document()
		d["@context"] = []any{credential.ContextVC, srv.URL + "/context.jsonld"}
		_, err := is.canon.AddProof(d, is.key, credential.ProofOptions{VerificationMethod: is.vm.ID})
		if !errors.Is(err, credential.ErrRemoteContext) {
			t.Fatalf("signing over a remote context: %v", err)
		}
		b, _ := json.Marshal(d)
		return b
	}
	manyBlanks := func() []byte {
		var nodes []any
		for i := 0; i < 200; i++ {
			nodes = append(nodes, map[string]any{"type": []any{"Evidence"}, "narrative": "x"})
		}
		return edit(func(d map[string]any) { d["evidence"] = nodes })
	}
	cases := []struct {
		name, check, says string
		doc               []byte
	}{
		{"huge", credential.CheckFormat, "too large", []byte(`{"x":"` + strings.Repeat("a", credential.MaxDocument) + `"}`)},
		{"deep nesting", credential.CheckFormat, "too deeply", []byte(`{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`)},
		{"deep object", credential.CheckFormat, "too deeply", []byte(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000))},
		{"not JSON", credential.CheckFormat, "decode", []byte(`{"@context": [`)},
		{"array at top", credential.CheckFormat, "not a JSON object", []byte(`[1,2]`)},
		{"duplicate key", credential.CheckFormat, "duplicate key", []byte(strings.Replace(string(valid), `"name":"Go basics"`, `"name":"Go basics","name":"Go expert"`, 1))},
		{"remote context", credential.CheckProof, "not one of the embedded contexts", edit(func(d map[string]any) {
			d["@context"] = []any{credential.ContextVC, srv.URL + "/context.jsonld"}
		})},
		{"remote context, unsigned", credential.CheckKey, "no proof", remoteSigned()},
		{"context not starting with VC 2.0", credential.CheckFormat, "@context", edit(func(d map[string]any) { d["@context"] = srv.URL })},
		{"proof is a string", credential.CheckKey, "proof is not an object", edit(func(d map[string]any) { d["proof"] = "z123" })},
		{"two proofs", credential.CheckKey, "2 proofs", edit(func(d map[string]any) { d["proof"] = []any{d["proof"], d["proof"]} })},
		{"proof of another suite", credential.CheckKey, "colearn checks", edit(func(d map[string]any) {
			d["proof"].(map[string]any)["cryptosuite"] = "ecdsa-rdfc-2019"
		})},
		{"proofValue not multibase", credential.CheckProof, "proofValue", edit(func(d map[string]any) {
			d["proof"].(map[string]any)["proofValue"] = "not-a-signature"
		})},
		{"issuer a number", credential.CheckFormat, "issuer", edit(func(d map[string]any) { d["issuer"] = 42 })},
		{"type a number", credential.CheckFormat, "VerifiableCredential", edit(func(d map[string]any) { d["type"] = 7 })},
		{"subject a list", credential.CheckFormat, "credentialSubject", edit(func(d map[string]any) { d["credentialSubject"] = []any{} })},
		{"validFrom a number", credential.CheckFormat, "validFrom", edit(func(d map[string]any) { d["validFrom"] = 1700000000 })},
		{"status a string", credential.CheckFormat, "credentialStatus", edit(func(d map[string]any) { d["credentialStatus"] = srv.URL })},
		{"undefined type", credential.CheckProof, "not defined", edit(func(d map[string]any) { d["type"] = []any{"VerifiableCredential", "OpenBadgeCredential", "Diploma"} })},
		{"many blank nodes", credential.CheckProof, "too complex", manyBlanks()},
		{"list of a relative node", credential.CheckProof, "relative IRI", edit(func(d map[string]any) {
			d["@context"] = append(d["@context"].([]any), map[string]any{"l": map[string]any{"@id": "https://evil.example/l", "@container": "@list"}})
			d["l"] = []any{map[string]any{"id": "rel"}}
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := is.verifier().Verify(context.Background(), c.doc)
			f := r.Failed()
			if r.Valid || f == nil || f.Name != c.check || !strings.Contains(f.Detail, c.says) {
				t.Fatalf("want %s failing with %q, got %+v", c.check, c.says, r.Checks)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the verifier fetched %d remote documents", n)
	}
}

// A status list that is not the issuer's, or a compressed bomb, does not
// count.
func TestStatusListMustBeTheIssuers(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	mallory := newIssuer(t)
	mallory.list.Set(7)
	mallory.publishList() // signed by another key claiming the same issuer
	is.served[courseIRI+"/status/revocation"] = mallory.served[courseIRI+"/status/revocation"]
	r := is.verifier().Verify(context.Background(), is.sign(is.badge().Document()))
	if f := r.Failed(); r.Valid || f == nil || f.Name != credential.CheckStatus || !strings.Contains(f.Detail, "status list") || r.Revoked {
		t.Fatalf("%+v", r.Checks)
	}
	if _, err := credential.DecodeStatusList("u" + strings.Repeat("A", 100)); err == nil {
		t.Fatal("garbage encodedList decoded")
	}
}
