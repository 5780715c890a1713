package peertest

import (
	"crypto"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/go-fed/httpsig"
)

// TestPeerSignsAndServes checks the two things every test relies on: what
// the peer serves is what was put there, and what it signs verifies.
func TestPeerSignsAndServes(t *testing.T) {
	t.Parallel()
	p := Start(t)
	a := p.NewActor("mallory")

	status, body := a.Get(t.Context(), a.IRI, SignOptions{})
	if status != http.StatusOK {
		t.Fatalf("GET actor: %d %s", status, body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc["id"] != a.IRI {
		t.Fatalf("actor document %q (%v)", body, err)
	}
	if p.Hits(p.Path(a.IRI)) != 1 {
		t.Fatalf("hits = %d, want 1", p.Hits(p.Path(a.IRI)))
	}

	// A request signed by the peer verifies with the actor's public key.
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/users/x/inbox", nil)
	a.Sign(req, []byte(`{}`), SignOptions{})
	v, err := httpsig.NewVerifier(req)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyId() != a.KeyID {
		t.Fatalf("keyId %q", v.KeyId())
	}
	if err := v.Verify(crypto.PublicKey(&a.Key.PublicKey), httpsig.RSA_SHA256); err != nil {
		t.Fatalf("verify: %v", err)
	}

	if status, _ := a.Post(t.Context(), p.URL+"/users/x/inbox", []byte(`{"a":1}`), SignOptions{}); status != http.StatusAccepted {
		t.Fatalf("POST: %d", status)
	}
	if got := p.Received("/users/x/inbox"); len(got) != 1 || string(got[0].Body) != `{"a":1}` {
		t.Fatalf("received %+v", got)
	}
}
