package credential_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colearn/colearn/federation/credential"
)

// The W3C vc-di-eddsa test vectors (testdata/eddsa/INDEX.md): every step of
// eddsa-rdfc-2022 is checked against the published intermediate values,
// not only sign-then-verify against colearn's own signer.
func TestW3CVectorsStepByStep(t *testing.T) {
	t.Parallel()
	canon := newCanon(t)
	var kp struct{ PublicKeyMultibase, PrivateKeyMultibase string }
	readJSON(t, "testdata/eddsa/keyPair.json", &kp)
	priv, err := credential.DecodeMultikeySeed(kp.PrivateKeyMultibase)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := credential.DecodeMultikey(kp.PublicKeyMultibase)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Fatal("the vectors' public key is not the private key's")
	}
	for _, set := range []struct{ name, input, dir string }{
		{"alumni", "testdata/eddsa/unsigned.json", "testdata/eddsa/eddsa-rdfc-2022"},
		{"employ", "testdata/eddsa/employmentAuth.json", "testdata/eddsa/eddsa-rdfc-2022/employ"},
	} {
		t.Run(set.name, func(t *testing.T) {
			var doc, config map[string]any
			readJSON(t, set.input, &doc)
			readJSON(t, filepath.Join(set.dir, "proofConfigDataInt.json"), &config)
			docCanon, err := canon.Canonicalize(doc)
			if err != nil {
				t.Fatal(err)
			}
			if want := readText(t, filepath.Join(set.dir, "canonDocDataInt.txt")); docCanon != want {
				t.Fatalf("canonical document:\n%s\nwant:\n%s", docCanon, want)
			}
			proofCanon, err := canon.Canonicalize(config)
			if err != nil {
				t.Fatal(err)
			}
			if want := readText(t, filepath.Join(set.dir, "proofCanonDataInt.txt")); proofCanon != want {
				t.Fatalf("canonical proof configuration:\n%s\nwant:\n%s", proofCanon, want)
			}
			dh, ph := sha256.Sum256([]byte(docCanon)), sha256.Sum256([]byte(proofCanon))
			wantHex(t, "document hash", dh[:], filepath.Join(set.dir, "docHashDataInt.txt"))
			wantHex(t, "proof hash", ph[:], filepath.Join(set.dir, "proofHashDataInt.txt"))
			delete(config, "@context")
			msg, err := canon.SignedBytes(doc, config)
			if err != nil {
				t.Fatal(err)
			}
			wantHex(t, "combined hash", msg, filepath.Join(set.dir, "combinedHashDataInt.txt"))
			sig := ed25519.Sign(priv, msg)
			wantHex(t, "signature", sig, filepath.Join(set.dir, "sigHexDataInt.txt"))

			var signed map[string]any
			readJSON(t, filepath.Join(set.dir, "signedDataInt.json"), &signed)
			unsecured, proof, err := credential.SplitProof(signed)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.TrimSpace(readText(t, filepath.Join(set.dir, "sigBTC58DataInt.txt"))); proof.ProofValue != want {
				t.Fatalf("signed output's proofValue %s, want %s", proof.ProofValue, want)
			}
			vm, err := credential.ResolveDIDKey(proof.VerificationMethod)
			if err != nil {
				t.Fatal(err)
			}
			if err := canon.CheckSignature(unsecured, proof, vm.Key); err != nil {
				t.Fatalf("published signed document does not verify: %v", err)
			}
			// Re-signing reproduces the published output (Ed25519 is deterministic).
			created, _ := proof.Created.MarshalText()
			resigned, err := canon.AddProof(doc, priv, credential.ProofOptions{VerificationMethod: proof.VerificationMethod, Created: proof.Created})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(resigned)
			want, _ := json.Marshal(signed)
			if string(got) != string(want) {
				t.Fatalf("re-signed (created %s):\n%s\nwant:\n%s", created, got, want)
			}
		})
	}
}

func newCanon(t testing.TB) *credential.Canonicalizer {
	t.Helper()
	c, err := credential.NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readText(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(readText(t, path)), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func wantHex(t *testing.T, what string, got []byte, path string) {
	t.Helper()
	if want := strings.TrimSpace(readText(t, path)); hex.EncodeToString(got) != want {
		t.Fatalf("%s %x, want %s", what, got, want)
	}
}
