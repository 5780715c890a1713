package federation_test

// The resolver against a hostile peer: a real loopback server serving
// crafted documents, with real keys, counting what it is asked.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/multiformats/go-multibase"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/peertest"
	"github.com/colearn/colearn/internal/pgtest"
)

type resolverBundle struct {
	pool *pgxpool.Pool
	r    *federation.Resolver
	peer *peertest.Peer
}

func newResolverBundle(t *testing.T, opts federation.ResolverOptions) *resolverBundle {
	t.Helper()
	pool := pgtest.NewPool(t)
	keys := federation.NewKeyStore(pool)
	if err := keys.EnsureInstanceKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	urls := federation.URLs{Scheme: "http", Host: "colearn.test"}
	client := federation.NewClient(federation.ClientConfig{AllowPrivate: true, Timeout: 5 * time.Second})
	return &resolverBundle{pool: pool, r: federation.NewResolverWith(pool, client, urls, keys, opts), peer: peertest.Start(t)}
}

// storedPEM is the key stored for iri, "" when iri is not stored.
func (b *resolverBundle) storedPEM(t *testing.T, iri string) string {
	t.Helper()
	var pem string
	err := b.pool.QueryRow(t.Context(), `SELECT coalesce(max(public_key_pem), '') FROM remote_actors WHERE iri = $1`, iri).Scan(&pem)
	if err != nil {
		t.Fatal(err)
	}
	return pem
}

func attackerKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestResolveKeyImpersonation is CVE-2024-23832's shape: a JSON file on
// Bob's origin claims to be Bob, with the attacker's key. The key is not
// accepted, Bob's stored key is not overwritten, and Bob's own key still
// resolves.
func TestResolveKeyImpersonation(t *testing.T) {
	t.Parallel()
	b := newResolverBundle(t, federation.ResolverOptions{})
	ctx := t.Context()
	bob := b.peer.NewActor("bob")
	if _, err := b.r.ResolveKey(ctx, bob.KeyID, false); err != nil {
		t.Fatal(err)
	}
	bobPEM := b.storedPEM(t, bob.IRI)

	evil := attackerKey(t)
	fake := map[string]any{}
	for k, v := range bob.Doc {
		fake[k] = v
	}
	fakeKeyID := b.peer.URL + "/media/x.json"
	fake["publicKey"] = map[string]any{"id": fakeKeyID, "owner": bob.IRI, "publicKeyPem": peertest.PublicKeyPEM(&evil.PublicKey)}
	b.peer.Serve("/media/x.json", fake)

	for _, keyID := range []string{fakeKeyID, fakeKeyID + "#main-key"} {
		if k, err := b.r.ResolveKey(ctx, keyID, false); err == nil {
			t.Errorf("ResolveKey(%s) accepted a key for %s", keyID, k.Owner)
		}
	}
	if got := b.storedPEM(t, bob.IRI); got != bobPEM {
		t.Errorf("Bob's stored key was overwritten")
	}
	k, err := b.r.ResolveKey(ctx, bob.KeyID, true)
	if err != nil || !k.Key.Equal(&bob.Key.PublicKey) {
		t.Errorf("Bob's key after the attack: %v, %v", k, err)
	}
	// The same document served as a key naming Bob as its owner is a
	// pointer to Bob, whose document does not list it.
	b.peer.Serve("/keys/1", map[string]any{"id": b.peer.URL + "/keys/1", "owner": bob.IRI, "publicKeyPem": peertest.PublicKeyPEM(&evil.PublicKey)})
	if _, err := b.r.ResolveKey(ctx, b.peer.URL+"/keys/1", false); err == nil {
		t.Error("a key document naming Bob as owner was accepted")
	}
}

// TestResolveKeyForms resolves the key id forms used in the wild.
func TestResolveKeyForms(t *testing.T) {
	t.Parallel()
	b := newResolverBundle(t, federation.ResolverOptions{})
	ctx := t.Context()

	t.Run("GoToSocial stub and signed actor", func(t *testing.T) {
		g := b.peer.NewGoToSocialActor("gina")
		k, err := b.r.ResolveKey(ctx, g.KeyID, false)
		if err != nil {
			t.Fatal(err)
		}
		if k.Owner != g.IRI || !k.Key.Equal(&g.Key.PublicKey) {
			t.Errorf("key owner %s", k.Owner)
		}
		if n := b.peer.Hits(b.peer.Path(g.KeyID)); n != 1 {
			t.Errorf("stub fetched %d times, want 1", n)
		}
		if b.storedPEM(t, g.IRI) == "" {
			t.Error("the actor was not stored")
		}
	})
	t.Run("publicKey array", func(t *testing.T) {
		f := b.peer.NewActor("fedi")
		second := attackerKey(t)
		f.Doc["publicKey"] = []any{
			f.PublicKey(f.KeyID),
			map[string]any{"id": f.IRI + "#key-2", "owner": f.IRI, "publicKeyPem": peertest.PublicKeyPEM(&second.PublicKey)},
		}
		b.peer.Publish(f)
		for _, tc := range []struct {
			id  string
			key *rsa.PublicKey
		}{{f.KeyID, &f.Key.PublicKey}, {f.IRI + "#key-2", &second.PublicKey}} {
			k, err := b.r.ResolveKey(ctx, tc.id, false)
			if err != nil {
				t.Fatalf("%s: %v", tc.id, err)
			}
			if !k.Key.Equal(tc.key) {
				t.Errorf("%s: another key was picked", tc.id)
			}
		}
	})
	t.Run("RSA Multikey in assertionMethod", func(t *testing.T) {
		m := b.peer.NewActor("multi")
		other := attackerKey(t)
		enc, err := multibase.Encode(multibase.Base58BTC, append([]byte{0x85, 0x24}, x509.MarshalPKCS1PublicKey(&other.PublicKey)...))
		if err != nil {
			t.Fatal(err)
		}
		m.Doc["assertionMethod"] = []any{map[string]any{"id": m.IRI + "#rsa-multikey", "type": "Multikey", "controller": m.IRI, "publicKeyMultibase": enc}}
		b.peer.Publish(m)
		k, err := b.r.ResolveKey(ctx, m.IRI+"#rsa-multikey", false)
		if err != nil {
			t.Fatal(err)
		}
		if !k.Key.Equal(&other.PublicKey) || k.Owner != m.IRI {
			t.Errorf("assertionMethod key resolved to %s's other key", k.Owner)
		}
	})
	t.Run("key not listed", func(t *testing.T) {
		a := b.peer.NewActor("amy")
		if _, err := b.r.ResolveKey(ctx, a.IRI+"#other-key", false); err == nil {
			t.Error("a key the actor does not list was accepted")
		}
	})
}

// TestFetchIdentity serves documents whose id is not where they were
// served from, or served as something else: each is refused and nothing
// is stored.
func TestFetchIdentity(t *testing.T) {
	t.Parallel()
	b := newResolverBundle(t, federation.ResolverOptions{})
	ctx := t.Context()
	p := b.peer
	real := p.NewActor("real")
	note := func(id string) map[string]any {
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Note", "attributedTo": real.IRI, "content": "hi"}
	}
	// Honest: served at its id.
	p.Serve("/notes/1", note(p.URL+"/notes/1"))
	// Redirected to where its id is.
	p.Handle("/go/2", peertest.Response{Status: http.StatusFound, Header: http.Header{"Location": {p.URL + "/notes/2"}}})
	p.Serve("/notes/2", note(p.URL+"/notes/2"))
	// Claims the id it was asked by, but is served from elsewhere.
	p.Handle("/go/3", peertest.Response{Status: http.StatusFound, Header: http.Header{"Location": {p.URL + "/elsewhere/3"}}})
	p.Serve("/elsewhere/3", note(p.URL+"/go/3"))
	// Claims another id, which serves yet another.
	p.Serve("/notes/4", note(p.URL+"/notes/4b"))
	p.Serve("/notes/4b", note(p.URL+"/notes/4c"))
	// Claims another id, which confirms it: accepted as that document.
	p.Serve("/alias/5", note(p.URL+"/notes/5"))
	p.Serve("/notes/5", note(p.URL+"/notes/5"))
	// Media types.
	p.Handle("/notes/6", peertest.Response{Body: p.JSON(note(p.URL + "/notes/6")), ContentType: "application/json"})
	p.Handle("/notes/7", peertest.Response{Body: p.JSON(note(p.URL + "/notes/7")), ContentType: "text/html"})
	p.Handle("/notes/8", peertest.Response{Body: p.JSON(note(p.URL + "/notes/8")), ContentType: `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`})
	p.Handle("/notes/9", peertest.Response{Body: p.JSON(note(p.URL + "/notes/9")), ContentType: `application/ld+json`})
	// Two ids: go-ap reads the first, encoding/json the last.
	p.ServeRaw("/notes/10", []byte(`{"id":"`+p.URL+`/notes/10","type":"Note","content":"a","id":"https://victim.example/notes/1"}`))
	p.ServeRaw("/notes/11", []byte(`{"id":"`+p.URL+`/notes/11","type":"Note","attributedTo":"`+real.IRI+`","attributedTo":"https://victim.example/users/v"}`))

	tests := []struct {
		path string
		ok   bool
	}{
		{"/notes/1", true}, {"/go/2", true}, {"/go/3", false}, {"/notes/4", false}, {"/alias/5", true},
		{"/notes/6", false}, {"/notes/7", false}, {"/notes/8", true}, {"/notes/9", false},
		{"/notes/10", false}, {"/notes/11", false},
	}
	for _, tt := range tests {
		_, err := b.r.Object(ctx, p.URL+tt.path)
		if tt.ok != (err == nil) {
			t.Errorf("Object(%s) = %v, want ok %v", tt.path, err, tt.ok)
		}
	}

	// An actor document served where its id is not: refused, not stored.
	fake := map[string]any{}
	for k, v := range real.Doc {
		fake[k] = v
	}
	p.Serve("/media/real.json", fake) // id says /users/real
	fake2 := map[string]any{}
	for k, v := range real.Doc {
		fake2[k] = v
	}
	fake2["id"] = p.URL + "/users/other"
	fake2["inbox"] = p.URL + "/users/other/inbox"
	p.Serve("/users/other2", fake2)
	if _, err := b.r.Actor(ctx, p.URL+"/users/other2", false); err == nil {
		t.Error("an actor served where its id is not was accepted")
	}
	if b.storedPEM(t, p.URL+"/users/other") != "" || b.storedPEM(t, p.URL+"/users/other2") != "" {
		t.Error("a refused actor was stored")
	}
	dup := []byte(`{"id":"` + p.URL + `/users/dup","type":"Person","inbox":"` + p.URL + `/users/dup/inbox","publicKey":` + string(p.JSON(real.PublicKey(p.URL+"/users/dup#main-key"))) + `,"preferredUsername":"dup","preferredUsername":"real"}`)
	p.ServeRaw("/users/dup", dup)
	if _, err := b.r.Actor(ctx, p.URL+"/users/dup", false); !errors.Is(err, federation.ErrDuplicateKey) {
		t.Errorf("actor with a duplicate key: %v, want ErrDuplicateKey", err)
	}
	if b.storedPEM(t, p.URL+"/users/dup") != "" {
		t.Error("an actor with duplicate keys was stored")
	}
}

// TestMisleadingUsernames refuses actors whose handle could pass for
// another's.
func TestMisleadingUsernames(t *testing.T) {
	t.Parallel()
	b := newResolverBundle(t, federation.ResolverOptions{})
	for i, name := range []string{"bob@victim.example", "bob ", "b\u202eob", "bo\u200bb", "bob\n", "bob\u2066"} {
		a := b.peer.NewActor("u" + string(rune('a'+i)))
		a.Doc["preferredUsername"] = name
		b.peer.Publish(a)
		if _, err := b.r.Actor(t.Context(), a.IRI, false); !errors.Is(err, federation.ErrMisleadingUsername) {
			t.Errorf("preferredUsername %q: %v, want ErrMisleadingUsername", name, err)
		}
		if b.storedPEM(t, a.IRI) != "" {
			t.Errorf("actor with preferredUsername %q was stored", name)
		}
	}
	ok := b.peer.NewActor("ünïcode_name.1")
	if _, err := b.r.Actor(t.Context(), ok.IRI, false); err != nil {
		t.Errorf("plain Unicode name refused: %v", err)
	}
}

// TestKeyResolutionIsCheap counts what a peer can make colearn fetch.
func TestKeyResolutionIsCheap(t *testing.T) {
	t.Parallel()
	t.Run("unresolvable key", func(t *testing.T) {
		t.Parallel()
		b := newResolverBundle(t, federation.ResolverOptions{})
		keyID := b.peer.URL + "/users/ghost#main-key"
		for range 10 {
			if _, err := b.r.ResolveKey(t.Context(), keyID, false); !errors.Is(err, federation.ErrKeyUnavailable) {
				t.Fatalf("ResolveKey = %v, want ErrKeyUnavailable", err)
			}
		}
		if n := b.peer.Hits("/users/ghost"); n < 1 || n > 2 {
			t.Errorf("%d fetches for ten lookups of one unresolvable key, want 1 or 2", n)
		}
	})
	t.Run("refresh on bad signatures", func(t *testing.T) {
		t.Parallel()
		b := newResolverBundle(t, federation.ResolverOptions{})
		a := b.peer.NewActor("carl")
		for i := range 10 {
			if _, err := b.r.ResolveKey(t.Context(), a.KeyID, i > 0); err != nil {
				t.Fatal(err)
			}
		}
		if n := b.peer.Hits("/users/carl"); n != 1 {
			t.Errorf("%d fetches for one lookup and nine refreshes within the gap, want 1", n)
		}
	})
	t.Run("per-host budget", func(t *testing.T) {
		t.Parallel()
		b := newResolverBundle(t, federation.ResolverOptions{HostRate: 0.001, HostBurst: 3, HostMaxWait: time.Millisecond})
		limited := 0
		for i := range 10 {
			_, err := b.r.Object(t.Context(), b.peer.URL+"/notes/"+string(rune('a'+i)))
			if errors.Is(err, federation.ErrRateLimited) {
				limited++
			}
		}
		total := 0
		for i := range 10 {
			total += b.peer.Hits("/notes/" + string(rune('a'+i)))
		}
		if total != 3 || limited != 7 {
			t.Errorf("%d fetches reached the host, %d refused for its budget; want 3 and 7", total, limited)
		}
	})
}
