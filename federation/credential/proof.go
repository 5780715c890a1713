package credential

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/multiformats/go-multibase"
)

// The Data Integrity proof colearn makes and checks.
const (
	ProofType        = "DataIntegrityProof"
	Cryptosuite      = "eddsa-rdfc-2022"
	PurposeAssertion = "assertionMethod"
)

// ErrBadSignature means the proof's signature does not verify against the
// key: the document or its proof was changed after signing, or another key
// signed it.
var ErrBadSignature = errors.New("signature does not verify")

// Proof is a parsed DataIntegrityProof.
type Proof struct {
	Type               string
	Cryptosuite        string
	VerificationMethod string
	ProofPurpose       string
	Created            time.Time
	ProofValue         string
	// options is the proof without proofValue, as it is canonicalised.
	options map[string]any
}

// ProofOptions says which key signs and when.
type ProofOptions struct {
	VerificationMethod string
	Created            time.Time
}

// SplitProof returns doc without its proof (the unsecured document) and the
// proof, parsed. A document must carry exactly one proof object of type
// DataIntegrityProof with cryptosuite eddsa-rdfc-2022 and string fields.
func SplitProof(doc map[string]any) (map[string]any, Proof, error) {
	raw, ok := doc["proof"]
	if !ok {
		return nil, Proof{}, errors.New("document has no proof")
	}
	if list, ok := raw.([]any); ok {
		if len(list) != 1 {
			return nil, Proof{}, fmt.Errorf("document has %d proofs; colearn checks exactly one", len(list))
		}
		raw = list[0]
	}
	pm, ok := raw.(map[string]any)
	if !ok {
		return nil, Proof{}, errors.New("proof is not an object")
	}
	var p Proof
	p.options = make(map[string]any, len(pm))
	for k, v := range pm {
		if k == "proofValue" {
			continue
		}
		p.options[k] = v
	}
	fields := map[string]*string{
		"type": &p.Type, "cryptosuite": &p.Cryptosuite, "verificationMethod": &p.VerificationMethod,
		"proofPurpose": &p.ProofPurpose, "proofValue": &p.ProofValue,
	}
	for name, dst := range fields {
		s, ok := pm[name].(string)
		if !ok || s == "" {
			return nil, Proof{}, fmt.Errorf("proof.%s is missing or not a string", name)
		}
		*dst = s
	}
	if p.Type != ProofType || p.Cryptosuite != Cryptosuite {
		return nil, Proof{}, fmt.Errorf("proof is %s/%s; colearn checks %s/%s", p.Type, p.Cryptosuite, ProofType, Cryptosuite)
	}
	if c, ok := pm["created"]; ok {
		s, _ := c.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, Proof{}, fmt.Errorf("proof.created %q is not a date-time", s)
		}
		p.Created = t
	}
	unsecured := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			unsecured[k] = v
		}
	}
	return unsecured, p, nil
}

// SignedBytes returns what eddsa-rdfc-2022 signs: SHA-256 of the canonical
// proof configuration (the proof options carrying the document's @context)
// followed by SHA-256 of the canonical unsecured document.
func (c *Canonicalizer) SignedBytes(unsecured, proofOptions map[string]any) ([]byte, error) {
	config := make(map[string]any, len(proofOptions)+1)
	for k, v := range proofOptions {
		config[k] = v
	}
	config["@context"] = unsecured["@context"]
	proofCanon, err := c.canonicalProofConfig(config)
	if err != nil {
		return nil, fmt.Errorf("proof configuration: %w", err)
	}
	docCanon, err := c.Canonicalize(unsecured)
	if err != nil {
		return nil, fmt.Errorf("document: %w", err)
	}
	ph := sha256.Sum256([]byte(proofCanon))
	dh := sha256.Sum256([]byte(docCanon))
	return append(ph[:], dh[:]...), nil
}

// AddProof signs doc (which must have no proof) with key and returns a copy
// carrying the DataIntegrityProof. It fails when doc does not canonicalise
// (see Canonicalize).
func (c *Canonicalizer) AddProof(doc map[string]any, key ed25519.PrivateKey, o ProofOptions) (map[string]any, error) {
	if _, ok := doc["proof"]; ok {
		return nil, errors.New("document already has a proof")
	}
	opts := map[string]any{
		"type":               ProofType,
		"cryptosuite":        Cryptosuite,
		"created":            o.Created.UTC().Format(time.RFC3339),
		"verificationMethod": o.VerificationMethod,
		"proofPurpose":       PurposeAssertion,
	}
	msg, err := c.SignedBytes(doc, opts)
	if err != nil {
		return nil, err
	}
	value, err := multibase.Encode(multibase.Base58BTC, ed25519.Sign(key, msg))
	if err != nil {
		return nil, err
	}
	signed := make(map[string]any, len(doc)+1)
	for k, v := range doc {
		signed[k] = v
	}
	opts["proofValue"] = value
	signed["proof"] = opts
	return signed, nil
}

// CheckSignature verifies p over unsecured with pub. It fails with
// ErrBadSignature when the signature does not match, and with another
// error when the proof value is malformed or the documents do not
// canonicalise.
func (c *Canonicalizer) CheckSignature(unsecured map[string]any, p Proof, pub ed25519.PublicKey) error {
	enc, sig, err := multibase.Decode(p.ProofValue)
	if err != nil || enc != multibase.Base58BTC || len(sig) != ed25519.SignatureSize {
		return errors.New("proofValue is not a base58-btc Ed25519 signature")
	}
	msg, err := c.SignedBytes(unsecured, p.options)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return ErrBadSignature
	}
	return nil
}
