package credential

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/multiformats/go-multibase"
)

// DIDKey returns the did:key of an Ed25519 public key and the id of its
// verification method (did:key:z6Mk...#z6Mk...).
func DIDKey(pub ed25519.PublicKey) (did, verificationMethod string) {
	mb := EncodeMultikey(pub)
	did = "did:key:" + mb
	return did, did + "#" + mb
}

// EncodeMultikey encodes an Ed25519 public key as publicKeyMultibase:
// base58-btc of the multicodec prefix 0xed01 and the 32 key bytes.
func EncodeMultikey(pub ed25519.PublicKey) string {
	s, _ := multibase.Encode(multibase.Base58BTC, append([]byte{0xed, 0x01}, pub...))
	return s
}

// DecodeMultikey decodes a publicKeyMultibase holding an Ed25519 key; any
// other encoding, codec or length is an error.
func DecodeMultikey(s string) (ed25519.PublicKey, error) {
	enc, b, err := multibase.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("decode multikey: %w", err)
	}
	if enc != multibase.Base58BTC || len(b) != 2+ed25519.PublicKeySize || b[0] != 0xed || b[1] != 0x01 {
		return nil, fmt.Errorf("multikey %.20q is not a base58-btc Ed25519 public key", s)
	}
	return ed25519.PublicKey(b[2:]), nil
}

// DecodeMultikeySeed decodes a privateKeyMultibase holding an Ed25519 seed
// (multicodec 0x8026), as in the W3C test vectors.
func DecodeMultikeySeed(s string) (ed25519.PrivateKey, error) {
	_, b, err := multibase.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("decode private multikey: %w", err)
	}
	if len(b) != 2+ed25519.SeedSize || b[0] != 0x80 || b[1] != 0x26 {
		return nil, fmt.Errorf("private multikey is not an Ed25519 seed")
	}
	return ed25519.NewKeyFromSeed(b[2:]), nil
}

// ResolveDIDKey resolves a did:key verification method offline: the key
// is the DID itself. The fragment, when present, must repeat the key, as
// did:key documents name their one verification method.
func ResolveDIDKey(vm string) (VerificationMethod, error) {
	rest, ok := strings.CutPrefix(vm, "did:key:")
	if !ok {
		return VerificationMethod{}, fmt.Errorf("%s is not a did:key", vm)
	}
	mb, frag, hasFrag := strings.Cut(rest, "#")
	if hasFrag && frag != mb {
		return VerificationMethod{}, fmt.Errorf("did:key %s names a verification method other than its key", vm)
	}
	pub, err := DecodeMultikey(mb)
	if err != nil {
		return VerificationMethod{}, fmt.Errorf("did:key %s: %w", vm, err)
	}
	return VerificationMethod{ID: "did:key:" + mb + "#" + mb, Controller: "did:key:" + mb, Key: pub}, nil
}
