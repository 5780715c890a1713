package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/multiformats/go-multibase"
)

// ErrNoKeys means a local actor has no keys stored.
var ErrNoKeys = errors.New("actor has no keys")

// KeyPair is a local actor's signing material: RSA-2048 for HTTP signatures
// and Ed25519 for object and credential proofs.
type KeyPair struct {
	RSA     *rsa.PrivateKey
	Ed25519 ed25519.PrivateKey
}

// GenerateKeyPair makes a fresh RSA-2048 and Ed25519 key pair.
func GenerateKeyPair() (KeyPair, error) {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate RSA key: %w", err)
	}
	_, e, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate Ed25519 key: %w", err)
	}
	return KeyPair{RSA: r, Ed25519: e}, nil
}

// PublicKeyPEM encodes the RSA public key as PKIX PEM, the form Mastodon
// publishes in publicKeyPem.
func (k KeyPair) PublicKeyPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(&k.RSA.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// PublicKeyMultibase encodes the Ed25519 public key as a Multikey value:
// base58btc multibase of the multicodec prefix 0xed01 and the key bytes.
func (k KeyPair) PublicKeyMultibase() string {
	return EncodeEd25519Multikey(k.Ed25519.Public().(ed25519.PublicKey))
}

// EncodeEd25519Multikey encodes an Ed25519 public key as publicKeyMultibase.
func EncodeEd25519Multikey(pub ed25519.PublicKey) string {
	s, _ := multibase.Encode(multibase.Base58BTC, append([]byte{0xed, 0x01}, pub...))
	return s
}

// DecodeEd25519Multikey decodes a publicKeyMultibase value holding an
// Ed25519 key; anything else is an error.
func DecodeEd25519Multikey(s string) (ed25519.PublicKey, error) {
	_, b, err := multibase.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("decode multikey: %w", err)
	}
	if len(b) != 2+ed25519.PublicKeySize || b[0] != 0xed || b[1] != 0x01 {
		return nil, errors.New("multikey is not an Ed25519 public key")
	}
	return ed25519.PublicKey(b[2:]), nil
}

// ParsePublicKeyPEM parses a publicKeyPem value (PKIX or PKCS#1) holding an
// RSA key.
func ParsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("publicKeyPem holds no PEM block")
	}
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, errors.New("publicKeyPem is not an RSA key")
	}
	k, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse publicKeyPem: %w", err)
	}
	return k, nil
}

// KeyStore keeps local actors' keys in PostgreSQL (table actor_keys) and
// caches the parsed keys in memory; keys never change once made.
type KeyStore struct {
	pool  *pgxpool.Pool
	mu    sync.RWMutex
	cache map[string]KeyPair
}

// NewKeyStore returns a KeyStore on pool.
func NewKeyStore(pool *pgxpool.Pool) *KeyStore {
	return &KeyStore{pool: pool, cache: make(map[string]KeyPair)}
}

// Create generates and stores keys for owner (a local handle, or "" for the
// instance actor) inside tx, so that an actor and its keys commit together.
func (s *KeyStore) Create(ctx context.Context, tx pgx.Tx, owner string) (KeyPair, error) {
	kp, err := GenerateKeyPair()
	if err != nil {
		return KeyPair{}, err
	}
	der := x509.MarshalPKCS1PrivateKey(kp.RSA)
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	_, err = tx.Exec(ctx, `INSERT INTO actor_keys (owner, rsa_private_pem, ed25519_seed) VALUES ($1, $2, $3)`,
		owner, string(priv), []byte(kp.Ed25519.Seed()))
	if err != nil {
		return KeyPair{}, fmt.Errorf("store keys of %q: %w", owner, err)
	}
	return kp, nil
}

// EnsureInstanceKeys makes the instance actor's keys unless they exist.
func (s *KeyStore) EnsureInstanceKeys(ctx context.Context) error {
	if _, err := s.Get(ctx, ""); err == nil || !errors.Is(err, ErrNoKeys) {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7)"); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM actor_keys WHERE owner = ''").Scan(&n); err != nil || n > 0 {
			return err
		}
		_, err := s.Create(ctx, tx, "")
		return err
	})
}

// Get returns owner's keys, or ErrNoKeys.
func (s *KeyStore) Get(ctx context.Context, owner string) (KeyPair, error) {
	s.mu.RLock()
	kp, ok := s.cache[owner]
	s.mu.RUnlock()
	if ok {
		return kp, nil
	}
	var privPEM string
	var seed []byte
	err := s.pool.QueryRow(ctx, `SELECT rsa_private_pem, ed25519_seed FROM actor_keys WHERE owner = $1`, owner).Scan(&privPEM, &seed)
	if errors.Is(err, pgx.ErrNoRows) {
		return KeyPair{}, fmt.Errorf("keys of %q: %w", owner, ErrNoKeys)
	}
	if err != nil {
		return KeyPair{}, fmt.Errorf("keys of %q: %w", owner, err)
	}
	block, _ := pem.Decode([]byte(privPEM))
	if block == nil {
		return KeyPair{}, fmt.Errorf("keys of %q: stored RSA key is not PEM", owner)
	}
	r, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return KeyPair{}, fmt.Errorf("keys of %q: %w", owner, err)
	}
	r.Precompute()
	kp = KeyPair{RSA: r, Ed25519: ed25519.NewKeyFromSeed(seed)}
	s.mu.Lock()
	s.cache[owner] = kp
	s.mu.Unlock()
	return kp, nil
}
