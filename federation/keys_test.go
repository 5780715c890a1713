package federation_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"

	"github.com/colearn/colearn/federation"
	"github.com/colearn/colearn/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestMultikeyRoundTrip(t *testing.T) {
	t.Parallel()
	for range 20 {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s := federation.EncodeEd25519Multikey(pub)
		if !strings.HasPrefix(s, "z6Mk") {
			t.Fatalf("multikey %q does not start with z6Mk", s)
		}
		got, err := federation.DecodeEd25519Multikey(s)
		if err != nil {
			t.Fatal(err)
		}
		if !pub.Equal(got) {
			t.Fatalf("decoded %x, want %x", got, pub)
		}
	}
}

func TestDecodeMultikeyRefuses(t *testing.T) {
	t.Parallel()
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	enc := func(b []byte) string {
		s, err := multibase.Encode(multibase.Base58BTC, b)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	secp := make([]byte, 33)
	secp[0] = 2
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not multibase", "!!!"},
		{"secp256k1 multikey", enc(append([]byte{0xe7, 0x01}, secp...))},
		{"x25519 multikey", enc(append([]byte{0xec, 0x01}, pub...))},
		{"ed25519 prefix, short key", enc(append([]byte{0xed, 0x01}, pub[:31]...))},
		{"ed25519 prefix, long key", enc(append(append([]byte{0xed, 0x01}, pub...), 0))},
		{"raw key without codec", enc(pub)},
		{"base64 encoding", func() string {
			s, _ := multibase.Encode(multibase.Base64, append([]byte{0xed, 0x02}, pub...))
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if k, err := federation.DecodeEd25519Multikey(tt.in); err == nil {
				t.Errorf("DecodeEd25519Multikey(%q) = %x, want an error", tt.in, k)
			}
		})
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	t.Parallel()
	kp, err := federation.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&kp.RSA.PublicKey)}))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	edDER, _ := x509.MarshalPKIXPublicKey(kp.Ed25519.Public())
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"PKIX", kp.PublicKeyPEM(), true},
		{"PKIX with surrounding whitespace", "\n" + kp.PublicKeyPEM() + "\n\n", true},
		{"PKCS#1", pkcs1, true},
		{"empty", "", false},
		{"garbage", "not a key", false},
		{"PEM of garbage", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("garbage")})), false},
		{"ECDSA key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})), false},
		{"Ed25519 key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edDER})), false},
		{"truncated", kp.PublicKeyPEM()[:100], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := federation.ParsePublicKeyPEM(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !k.Equal(&kp.RSA.PublicKey) {
					t.Error("parsed key differs from the encoded one")
				}
			} else if err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestKeyStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	ks := federation.NewKeyStore(pool)

	if _, err := ks.Get(ctx, "alice"); !errors.Is(err, federation.ErrNoKeys) {
		t.Fatalf("Get before Create = %v, want ErrNoKeys", err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	created, err := ks.Create(ctx, tx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// Rolled back: the keys are gone with the actor.
	tx.Rollback(ctx)
	if _, err := ks.Get(ctx, "alice"); !errors.Is(err, federation.ErrNoKeys) {
		t.Fatalf("Get after rollback = %v, want ErrNoKeys", err)
	}
	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	created, err = ks.Create(ctx, tx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// A fresh store reads the keys from the database, not from a cache.
	got, err := federation.NewKeyStore(pool).Get(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !got.RSA.Equal(created.RSA) || !got.Ed25519.Equal(created.Ed25519) {
		t.Error("keys read back differ from the keys created")
	}
	if got.PublicKeyMultibase() != created.PublicKeyMultibase() || got.PublicKeyPEM() != created.PublicKeyPEM() {
		t.Error("published forms of the keys differ")
	}

	if err := ks.EnsureInstanceKeys(ctx); err != nil {
		t.Fatal(err)
	}
	inst, err := ks.Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.EnsureInstanceKeys(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := federation.NewKeyStore(pool).Get(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !inst.RSA.Equal(again.RSA) {
		t.Error("EnsureInstanceKeys replaced existing keys")
	}
	if inst.RSA.Equal(got.RSA) {
		t.Error("instance and alice share a key")
	}

	// A second Create for one owner fails and leaves the first keys.
	tx, err = pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := ks.Create(ctx, tx, "alice"); err == nil {
		t.Error("second Create for alice succeeded")
	}
}

// TestEnsureInstanceKeysConcurrent starts several instances on one database
// at once: exactly one instance key results.
func TestEnsureInstanceKeysConcurrent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := pgtest.NewPool(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- federation.NewKeyStore(pool).EnsureInstanceKeys(ctx) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM actor_keys WHERE owner = ''`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d instance keys, want 1", n)
	}
}
