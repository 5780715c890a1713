package credential

import (
	"encoding/json"
	"os"
	"testing"
)

// A templated proof configuration canonicalises exactly as the
// configuration itself, for every creation time and for contexts that
// make "created" an IRI, a JSON literal, a list, a keyword or a
// language-tagged string; the template is used for colearn's own proofs.
func TestProofTemplateMatchesCanonicalize(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	std := func(ctx any) map[string]any {
		return map[string]any{"@context": ctx, "type": ProofType, "cryptosuite": Cryptosuite,
			"verificationMethod": "https://learn.example/courses/intro-go#ed25519-key", "proofPurpose": PurposeAssertion}
	}
	vocab := func(term any, extra map[string]any) map[string]any {
		ctx := map[string]any{"@vocab": "http://example.org/v#"}
		if term != nil {
			ctx["created"] = term
		}
		d := map[string]any{"@context": ctx, "@id": "http://example.org/proof", "other": "2024-01-01T00:00:00Z"}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	configs := map[string]map[string]any{
		"colearn":           roundTrip(t, std(Contexts())),
		"VC only":           roundTrip(t, std([]any{ContextVC})),
		"created an IRI":    vocab(map[string]any{"@type": "@id"}, nil),
		"created a vocab":   vocab(map[string]any{"@type": "@vocab"}, map[string]any{"@context": map[string]any{"@vocab": "http://example.org/v#", "created": map[string]any{"@type": "@vocab"}, "2024-01-01T00:00:00Z": "http://example.org/term"}}),
		"created JSON":      vocab(map[string]any{"@type": "@json"}, nil),
		"created a list":    vocab(map[string]any{"@container": "@list"}, nil),
		"created is @id":    vocab("@id", nil),
		"created is @type":  vocab("@type", nil),
		"created untyped":   vocab(nil, nil),
		"created in French": vocab(map[string]any{"@language": "fr"}, nil),
	}
	for _, f := range []string{"testdata/eddsa/eddsa-rdfc-2022/proofConfigDataInt.json", "testdata/eddsa/eddsa-rdfc-2022/employ/proofConfigDataInt.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		json.Unmarshal(b, &d)
		configs[f] = d
	}
	times := []string{"2024-01-01T00:00:00Z", "2023-02-24T23:36:38Z", "", "http://example.org/x", "dc:x", "_:b0",
		"quote\" and \n newline", "ü", "colearn-created-placeholder", "other", "not a date"}
	for name, config := range configs {
		t.Run(name, func(t *testing.T) {
			for range 2 {
				for _, created := range times {
					cfg := make(map[string]any, len(config)+1)
					for k, v := range config {
						cfg[k] = v
					}
					cfg["created"] = created
					want, wantErr := c.Canonicalize(roundTrip(t, cfg))
					got, err := c.canonicalProofConfig(roundTrip(t, cfg))
					if got != want || (err == nil) != (wantErr == nil) {
						t.Fatalf("created %q: template gives\n%s (%v)\nCanonicalize gives\n%s (%v)", created, got, err, want, wantErr)
					}
				}
			}
		})
	}
	key, _ := json.Marshal(roundTrip(t, std(Contexts())))
	c.templates.mu.RLock()
	defer c.templates.mu.RUnlock()
	if c.templates.byKey[string(key)] == nil {
		t.Fatal("colearn's proof configuration was not templated")
	}
}

// FuzzProofTemplate holds the templated canonicalisation to Canonicalize
// for arbitrary creation times and the JSON-LD around them.
//
//	go test -fuzz=FuzzProofTemplate ./federation/credential/
func FuzzProofTemplate(f *testing.F) {
	c, err := NewCanonicalizer()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","proofPurpose":"assertionMethod","verificationMethod":"https://a.example/k"}`, "2024-01-01T00:00:00Z", "2025-05-05T05:05:05Z")
	f.Add(`{"@context":{"@vocab":"http://example.org/v#","created":{"@type":"@id"}},"other":"x"}`, "x", "y")
	f.Add(`{"@context":{"@vocab":"http://example.org/v#","created":{"@container":"@list"}},"other":"x"}`, "x", "")
	f.Fuzz(func(t *testing.T, rest, first, second string) {
		base, err := ParseDocument([]byte(rest))
		if err != nil {
			return
		}
		for _, created := range []string{first, second, first} {
			cfg := make(map[string]any, len(base)+1)
			for k, v := range base {
				cfg[k] = v
			}
			cfg["created"] = created
			want, wantErr := c.Canonicalize(roundTrip(t, cfg))
			got, err := c.canonicalProofConfig(roundTrip(t, cfg))
			if got != want || (err == nil) != (wantErr == nil) {
				t.Fatalf("created %q: template gives\n%s (%v)\nCanonicalize gives\n%s (%v)", created, got, err, want, wantErr)
			}
		}
	})
}
