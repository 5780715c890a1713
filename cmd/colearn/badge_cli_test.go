package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colearn/colearn/federation/credential"
)

// colearn badge verify exits 0 only for a valid credential; did:key
// resolves offline; --key supplies a key; hostile input fails cleanly.
func TestBadgeVerifyCommand(t *testing.T) {
	t.Parallel()
	canon, err := credential.NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	did, vm := credential.DIDKey(pub)
	b := credential.Badge{
		ID: "urn:uuid:2b1f", Issuer: credential.Profile{ID: did, Name: "Offline issuer"},
		ValidFrom: time.Now().Add(-time.Minute), Subject: "did:example:learner",
		Achievement: credential.Achievement{ID: "urn:uuid:0e6a", Name: "Offline badge", Description: "d", Criteria: "c"},
	}
	signed, err := canon.AddProof(b.Document(), priv, credential.ProofOptions{VerificationMethod: vm, Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, v any) string {
		p := filepath.Join(dir, name)
		var data []byte
		if raw, ok := v.([]byte); ok {
			data = raw
		} else {
			data, _ = json.Marshal(v)
		}
		os.WriteFile(p, data, 0o600)
		return p
	}
	good := write("good.json", signed)
	out, _, err := runCLI(t, "", "badge", "verify", "--offline", good)
	if err != nil || !strings.Contains(out, "Offline badge") || !strings.HasSuffix(strings.TrimSpace(out), "valid") {
		t.Fatalf("did:key credential offline: %v\n%s", err, out)
	}
	signed["name"] = "Forged badge"
	out, _, err = runCLI(t, "", "badge", "verify", "--offline", write("bad.json", signed))
	if !errors.Is(err, errInvalidCredential) || !strings.Contains(out, "FAIL proof") {
		t.Fatalf("tampered credential: %v\n%s", err, out)
	}
	// An http(s) key given with --key, for a key that cannot be fetched.
	const issuer = "https://issuer.invalid/courses/x"
	b.Issuer.ID = issuer
	signed2, _ := canon.AddProof(b.Document(), priv, credential.ProofOptions{VerificationMethod: issuer + "#ed25519-key", Created: time.Now()})
	cred2 := write("cred2.json", signed2)
	key := write("key.json", map[string]any{"id": issuer + "#ed25519-key", "type": "Multikey", "controller": issuer, "publicKeyMultibase": credential.EncodeMultikey(pub)})
	if out, _, err := runCLI(t, "", "badge", "verify", "--offline", "--key", key, cred2); err != nil {
		t.Fatalf("--key: %v\n%s", err, out)
	}
	if out, _, err := runCLI(t, "", "badge", "verify", "--offline", cred2); !errors.Is(err, errInvalidCredential) || !strings.Contains(out, "FAIL issuer key") {
		t.Fatalf("without --key: %v\n%s", err, out)
	}
	for name, doc := range map[string][]byte{
		"huge.json":   []byte(`{"a":"` + strings.Repeat("x", credential.MaxDocument) + `"}`),
		"deep.json":   []byte(strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)),
		"remote.json": bytes.Replace(mustJSON(signed), []byte(credential.ContextOB), []byte("https://evil.invalid/ctx.json"), 1),
	} {
		if out, _, err := runCLI(t, "", "badge", "verify", "--offline", write(name, doc)); !errors.Is(err, errInvalidCredential) || !strings.Contains(out, "FAIL") {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// POST /credentials/verify answers hostile bodies with a report or a 4xx.
func TestVerifyEndpointHostileInput(t *testing.T) {
	t.Parallel()
	ti := startInstance(t, testInstanceOptions{})
	status, body := ti.postJSON(t, "/credentials/verify", []byte(strings.Repeat("[", credential.MaxDocument+10)))
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge body: %d %s", status, body)
	}
	status, body = ti.postJSON(t, "/credentials/verify", []byte(`{"@context":["https://www.w3.org/ns/credentials/v2","http://127.0.0.1:1/ctx"],"type":["VerifiableCredential"],"issuer":"x","validFrom":"2020-01-01T00:00:00Z","credentialSubject":{}, "proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","verificationMethod":"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2","proofPurpose":"assertionMethod","proofValue":"z1"}}`))
	if r := verifyReport(t, body); status != 200 || r.Valid || r.Failed() == nil {
		t.Fatalf("hostile credential: %d %s", status, body)
	}
	status, _ = ti.postJSON(t, "/credentials/verify", nil)
	if status != http.StatusBadRequest {
		t.Fatalf("empty body: %d", status)
	}
}
