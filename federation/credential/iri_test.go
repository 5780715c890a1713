package credential

import (
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"
)

// jsonGoldValidIRI is json-gold's own validIRI, without any cache.
func jsonGoldValidIRI(s string) bool {
	return !(strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")) || ld.IsURL(s)
}

var iriSeeds = []string{
	"https://learn.example/credentials/abc", "https://learn.example/users/bea", "https://learn.example/x#7",
	"https://learn.example:8443/a", "https://learn.example:99999/a", "https://learn.example/%zz",
	"https://learn.example/a b", "https://learn.example/a\tb", "https://learn.example/\x7f", "https://a@b/c",
	"https://user:pw@learn.example/c", "https://.bad/x", "https://bad./x", "https://-bad/x", "https:///a",
	"https://", "http://a", "http://[::1]/a", "http://[::1/a", "http://127.0.0.1/a", "http://256.1.1.1/a",
	"https://xn--bcher-kva.example/a", "https://bücher.example/a", "https://learn.example?x=1",
	"https://learn.example#f", "https://learn.example", "https://learn.example/" + strings.Repeat("a", 2100),
	"https://learn.example/a/../b", "https://learn..example/a", "https://under_score.example/a",
	"https://learn.example/a?q=/b", "https://learn.example//", "mailto:a@b", "urn:uuid:1234", "did:key:z6Mk",
}

// The remembered relative-IRI verdicts are ld.IsRelativeIri's, first time
// and from the cache.
func TestRelativeIRIVerdictsMatchJSONGold(t *testing.T) {
	t.Parallel()
	c := newIRIChecks()
	for range 2 {
		for _, s := range append(iriSeeds, "rel/a", "../b", "_:b0", "@id", "@type", "", "#f", "a:b", ":x", "1a:b") {
			if got, want := c.relativeIRI(s), ld.IsRelativeIri(s); got != want {
				t.Errorf("%q: %v, json-gold says %v", s, got, want)
			}
		}
	}
}

// The memoised, origin-keyed check gives ld.IsURL's verdict, first time
// and from the cache.
func TestIRIVerdictsMatchJSONGold(t *testing.T) {
	t.Parallel()
	c := newIRIChecks()
	for range 2 {
		for _, s := range iriSeeds {
			if got, want := c.validIRI(s), jsonGoldValidIRI(s); got != want {
				t.Errorf("%q: %v, json-gold says %v", s, got, want)
			}
		}
	}
}

// FuzzIRIVerdictMatchesJSONGold holds iriChecks to ld.IsURL.
//
//	go test -fuzz=FuzzIRIVerdictMatchesJSONGold ./federation/credential/
func FuzzIRIVerdictMatchesJSONGold(f *testing.F) {
	for _, s := range iriSeeds {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		c := newIRIChecks()
		for _, s := range []string{first, second, first} {
			if got, want := c.validIRI(s), jsonGoldValidIRI(s); got != want {
				t.Fatalf("%q (after %q): %v, json-gold says %v", s, first, got, want)
			}
		}
	})
}
