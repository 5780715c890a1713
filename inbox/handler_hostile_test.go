package inbox_test

// The inbox against a hostile peer (internal/peertest): real signatures,
// crafted documents, and what the peer is made to serve counted.

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/peertest"
)

// TestInboxPolicyRefusals: validly signed, refused by policy, 403 (which
// peers do not retry), nothing stored; the real actor still gets through.
func TestInboxPolicyRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m, bob := b.mallory, b.bob
	tests := []struct {
		name string
		req  func() (*http.Request, []byte)
		want string
	}{
		{"signer is not the actor", func() (*http.Request, []byte) {
			body := b.note(m.iri, "")
			return b.post("/inbox", body, &bob, signOpts{}), body
		}, "belongs to " + bob.iri},
		{"activity id on another origin", func() (*http.Request, []byte) {
			body := b.note(m.iri, "https://victim.example/activities/1")
			return b.post("/inbox", body, &m, signOpts{}), body
		}, "not on the origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, body := tt.req()
			got := b.send(req, body)
			if got.status != http.StatusForbidden || !strings.Contains(got.body, tt.want) {
				t.Fatalf("status %d (%s), want 403 saying %q", got.status, got.body, tt.want)
			}
		})
	}
	if n := b.rows(); n != 0 {
		t.Fatalf("%d activities stored after refusals, want 0", n)
	}
	body := b.note(m.iri, "")
	if got := b.send(b.signed("/inbox", body, m), body); got.status != http.StatusAccepted {
		t.Fatalf("mallory's own activity: %d (%s)", got.status, got.body)
	}
}

// TestInboxRefusesDuplicateKeys: one parse decides, so a validly signed
// activity in which any object names a member twice is 400 and not stored.
func TestInboxRefusesDuplicateKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.mallory
	tests := map[string]string{
		"two ids":                   `{"@context":"https://www.w3.org/ns/activitystreams","id":"%[1]s/activities/d1","type":"Create","actor":"%[1]s","id":"https://victim.example/activities/1","object":{"id":"%[1]s/notes/d1","type":"Note","attributedTo":"%[1]s","content":"x"}}`,
		"two actors":                `{"id":"%[1]s/activities/d2","type":"Create","actor":"%[1]s","actor":"https://victim.example/users/v","object":"%[1]s/notes/d2"}`,
		"two authors in the object": `{"id":"%[1]s/activities/d3","type":"Create","actor":"%[1]s","object":{"id":"%[1]s/notes/d3","type":"Note","attributedTo":"%[1]s","attributedTo":"https://victim.example/users/v","content":"x"}}`,
		"escaped twin":              `{"id":"%[1]s/activities/d4","type":"Follow","actor":"%[1]s","object":"x","\u006fbject":"y"}`,
	}
	for name, tmpl := range tests {
		t.Run(name, func(t *testing.T) {
			body := []byte(fmt.Sprintf(tmpl, m.iri))
			got := b.send(b.signed("/inbox", body, m), body)
			if got.status != http.StatusBadRequest || !strings.Contains(got.body, "duplicate key") {
				t.Fatalf("status %d (%s), want 400 naming the duplicate key", got.status, got.body)
			}
		})
	}
	if n := b.rows(); n != 0 {
		t.Fatalf("%d activities stored, want 0", n)
	}
}

// TestInboxKeyAbuse: what a peer repeating a bad keyId or a bad signature
// makes colearn fetch, and what it learns.
func TestInboxKeyAbuse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := peertest.Start(t)
	eve := p.NewActor("eve")

	t.Run("unresolvable key: ten requests, at most two fetches", func(t *testing.T) {
		ghost := p.URL + "/users/ghost"
		for i := range 10 {
			act := eve.Activity("Create", map[string]any{"actor": ghost, "id": fmt.Sprintf("%s/activities/%d", ghost, i)})
			status, body := eve.Post(t.Context(), b.local.URL+"/inbox", p.JSON(act), peertest.SignOptions{KeyID: ghost + "#main-key"})
			if status != http.StatusUnauthorized || strings.TrimSpace(body) != federation.RefusalText("key") {
				t.Fatalf("request %d: %d %q", i, status, body)
			}
		}
		if n := p.Hits("/users/ghost"); n < 1 || n > 2 {
			t.Errorf("%d fetches of the unresolvable key, want 1 or 2", n)
		}
	})
	t.Run("bad signatures on a known key: one refetch", func(t *testing.T) {
		pat := p.NewActor("pat")
		act := pat.Activity("Like", map[string]any{"object": p.URL + "/notes/1"})
		if status, body := pat.Post(t.Context(), b.local.URL+"/inbox", p.JSON(act), peertest.SignOptions{}); status != http.StatusAccepted {
			t.Fatalf("pat's own request: %d %s", status, body)
		}
		for i := range 10 {
			act := pat.Activity("Like", map[string]any{"object": p.URL + "/notes/1"})
			status, body := eve.Post(t.Context(), b.local.URL+"/inbox", p.JSON(act), peertest.SignOptions{KeyID: pat.KeyID})
			if status != http.StatusUnauthorized || strings.TrimSpace(body) != federation.RefusalText("invalid") {
				t.Fatalf("forged request %d: %d %q", i, status, body)
			}
		}
		if n := p.Hits("/users/pat"); n > 2 {
			t.Errorf("%d fetches of pat's key after ten bad signatures, want at most 2", n)
		}
	})
}

// TestInboxImpersonation: a document on Bob's origin that claims to be Bob
// with the attacker's key signs an activity as Bob. It is refused, Bob's
// stored key is not overwritten, and Bob still gets through.
func TestInboxImpersonation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := peertest.Start(t)
	bob := p.NewActor("bob")
	like := func() []byte {
		return p.JSON(bob.Activity("Like", map[string]any{"object": p.URL + "/notes/1"}))
	}
	if status, body := bob.Post(t.Context(), b.local.URL+"/inbox", like(), peertest.SignOptions{}); status != http.StatusAccepted {
		t.Fatalf("bob: %d %s", status, body)
	}
	storedPEM := func() string {
		var pem string
		if err := b.pool.QueryRow(b.ctx, `SELECT public_key_pem FROM remote_actors WHERE iri = $1`, bob.IRI).Scan(&pem); err != nil {
			t.Fatal(err)
		}
		return pem
	}
	before := storedPEM()

	mallory := p.NewActor("mallory")
	evil, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	mallory.Key = evil
	fake := map[string]any{}
	for k, v := range bob.Doc {
		fake[k] = v
	}
	fake["publicKey"] = map[string]any{"id": p.URL + "/media/x.json", "owner": bob.IRI, "publicKeyPem": peertest.PublicKeyPEM(&evil.PublicKey)}
	p.Serve("/media/x.json", fake)
	rows := b.rows()
	status, body := mallory.Post(t.Context(), b.local.URL+"/inbox", like(), peertest.SignOptions{KeyID: p.URL + "/media/x.json"})
	if status != http.StatusUnauthorized {
		t.Fatalf("impersonation: %d %s, want 401", status, body)
	}
	if b.rows() != rows {
		t.Error("the impersonating activity was stored")
	}
	if storedPEM() != before {
		t.Error("Bob's stored key was overwritten")
	}
	if status, body := bob.Post(t.Context(), b.local.URL+"/inbox", like(), peertest.SignOptions{}); status != http.StatusAccepted {
		t.Fatalf("bob after the attack: %d %s", status, body)
	}
}
