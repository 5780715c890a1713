package credential

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/piprate/json-gold/ld"
)

// datasetCorpus is JSON-LD that exercises every branch of toDataset:
// numbers, booleans, typed and language-tagged values, lists, named
// graphs, reverse properties, blank node types, relative IRIs and the
// http(s) IRIs json-gold drops.
var datasetCorpus = []string{
	`{"@context": {"@vocab": "http://example.org/v#", "xsd": "http://www.w3.org/2001/XMLSchema#"},
	  "@id": "http://example.org/a", "int": 5, "neg": -3, "float": 1.5, "big": 1e21, "small": 1e-7,
	  "yes": true, "no": false, "str": "x",
	  "dbl": {"@value": 5, "@type": "xsd:double"}, "typedInt": {"@value": 5, "@type": "xsd:integer"},
	  "typedBool": {"@value": true, "@type": "http://example.org/bool"},
	  "typedStr": {"@value": "2024-01-01T00:00:00Z", "@type": "xsd:dateTime"},
	  "lang": {"@value": "hello", "@language": "en-GB"}, "badLang": {"@value": "x", "@language": "en_GB!"}}`,
	`{"@context": {"@vocab": "http://example.org/v#"},
	  "@id": "http://exa mple.org/a", "p": {"@id": "https://.bad/x"}, "q": {"@id": "http://example.org/ok", "r": "kept"},
	  "s": {"@value": "v", "@type": "https://.bad/dt"}, "t": {"@id": "https://a"}, "u": {"@id": "mailto:x@example.org"}}`,
	`{"@context": {"@vocab": "http://bad host/#"}, "@id": "http://example.org/a", "p": "x"}`,
	`{"@context": {"@vocab": "http://example.org/v#", "l": {"@container": "@list"}, "e": {"@container": "@list"}},
	  "@id": "http://example.org/a", "l": [1, "two", {"@id": "http://example.org/b"}, {"p": "in a list"}, [3, [4]], true], "e": []}`,
	`{"@context": {"@vocab": "http://example.org/v#"}, "@id": "http://example.org/g",
	  "@graph": [{"@id": "http://example.org/s", "p": "o"}, {"p": "blank", "q": {"@id": "https://.bad/"}}], "label": "g"}`,
	`{"@context": {"@vocab": "http://example.org/v#"}, "@graph": [{"@id": "http://example.org/s", "p": "o"}, {"p": "blank"}]}`,
	`{"@context": {"@vocab": "http://example.org/v#"}, "p": {"@graph": {"q": "r"}}}`,
	`{"@context": {"@vocab": "http://example.org/v#"}, "@id": "http://bad graph/g", "@graph": [{"@id": "http://example.org/s", "p": "o"}]}`,
	`{"@context": {"@vocab": "http://example.org/v#", "knownBy": {"@reverse": "http://example.org/v#knows"}},
	  "@id": "http://example.org/a", "knownBy": [{"@id": "http://example.org/b"}, {"name": "c"}]}`,
	`{"@context": {"@vocab": "http://example.org/v#"}, "@type": ["T", "_:bt", "http://example.org/U"], "p": {"@type": "U", "q": 1}}`,
	`{"@context": {"@vocab": "http://example.org/v#"}, "@id": "rel/a", "p": "x", "q": {"@id": "_:b", "r": "y"}}`,
	`{"@context": {"@vocab": "http://example.org/v#", "@base": "http://example.org/base/"}, "@id": "rel/a", "p": {"@id": "../b"}}`,
}

// datasetDocuments returns the corpus, colearn's own documents and the
// W3C vectors' documents.
func datasetDocuments(t testing.TB) map[string]map[string]any {
	docs := make(map[string]map[string]any)
	for i, s := range datasetCorpus {
		var d map[string]any
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatalf("corpus %d: %v", i, err)
		}
		docs[fmt.Sprintf("corpus %d", i)] = d
	}
	prof := Profile{ID: "https://learn.example/courses/intro-go", Name: "Intro to Go", URL: "https://learn.example/courses/intro-go"}
	badge := Badge{
		ID: "https://learn.example/credentials/abc", Issuer: prof, ValidFrom: time.Unix(1700000000, 0),
		Subject: "https://other.example/users/bea",
		Achievement: Achievement{ID: prof.ID + "/achievements/go-basics", Name: "Go basics", Description: "Writes Go.",
			Criteria: "Every exercise.", Image: "https://learn.example/badge.png", Tags: []string{"go"}},
		Evidence: []Evidence{{Narrative: "Wrote a web server."}},
		Status:   StatusEntry(prof.ID+"/status/revocation", 7),
	}
	docs["badge"] = roundTrip(t, badge.Document())
	docs["status list"] = roundTrip(t, StatusListCredential(prof.ID+"/status/revocation", prof, time.Unix(1700000000, 0), NewStatusList()))
	for _, f := range []string{
		"testdata/eddsa/unsigned.json", "testdata/eddsa/employmentAuth.json",
		"testdata/eddsa/eddsa-rdfc-2022/proofConfigDataInt.json", "testdata/eddsa/eddsa-rdfc-2022/signedDataInt.json",
		"testdata/eddsa/eddsa-rdfc-2022/employ/proofConfigDataInt.json",
	} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs[f] = d
	}
	return docs
}

func roundTrip(t testing.TB, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// jsonGoldDataset is json-gold's own ToRDF over a fresh expansion of doc.
func jsonGoldDataset(c *Canonicalizer, doc map[string]any) (ds *ld.RDFDataset, err error) {
	api := ld.NewJsonLdApi()
	input, err := c.expand(api, doc)
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("json-gold panicked: %v", p)
		}
	}()
	return api.ToRDF(input, c.opts)
}

// sameDataset fails t unless toDataset and json-gold's ToRDF give the same
// statements for doc: the same graphs with as many statements each, and
// the same canonical N-Quads. It reports whether there was anything to
// compare (doc expands and has no JSON literal).
func sameDataset(t *testing.T, c *Canonicalizer, doc []byte) bool {
	t.Helper()
	parse := func() map[string]any {
		var d map[string]any
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	theirs, theirErr := jsonGoldDataset(c, parse())
	api := ld.NewJsonLdApi()
	input, err := c.expand(api, parse())
	if err != nil {
		return false
	}
	mine, err := c.toDataset(api, input)
	if errors.Is(err, errJSONLiteral) {
		return false
	}
	if errors.Is(err, ErrRelativeListItem) {
		// Refused where json-gold builds a statement without an object.
		if theirErr == nil {
			if _, err := normalizeSafely(api, theirs, c.opts); err == nil {
				t.Fatal("refused a list json-gold canonicalises")
			}
		}
		return false
	}
	if theirErr != nil || err != nil {
		if (theirErr == nil) != (err == nil) {
			t.Fatalf("json-gold: %v; colearn: %v", theirErr, err)
		}
		return false
	}
	count := func(ds *ld.RDFDataset) map[string]int {
		m := make(map[string]int)
		for name, g := range ds.Graphs {
			m[name] = len(g)
		}
		return m
	}
	if a, b := count(theirs), count(mine); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("statements per graph: json-gold %v, colearn %v", a, b)
	}
	a, errA := normalizeSafely(api, theirs, c.opts)
	b, errB := normalizeSafely(api, mine, c.opts)
	if a != b || (errA == nil) != (errB == nil) {
		t.Fatalf("canonical N-Quads differ:\njson-gold (%v):\n%s\ncolearn (%v):\n%s", errA, a, errB, b)
	}
	return errA == nil
}

func normalizeSafely(api *ld.JsonLdApi, ds *ld.RDFDataset, opts *ld.JsonLdOptions) (s string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("normalize panicked: %v", p)
		}
	}()
	out, err := api.Normalize(ds, opts)
	s, _ = out.(string)
	return s, err
}

// toDataset is a copy of json-gold's ToRDF with memoised IRI checks: it
// must give json-gold's statements for every document, the dropped ones
// included.
func TestDatasetMatchesJSONGold(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	docs := datasetDocuments(t)
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			b, _ := json.Marshal(docs[name])
			// Twice: the second run takes every IRI verdict from the cache.
			for range 2 {
				if !sameDataset(t, c, b) {
					t.Fatal("nothing compared: the document does not expand")
				}
			}
		})
	}
}

// The cache must not change what is dropped: an IRI json-gold refuses is
// refused again on a cache hit, and the statements using it are gone.
func TestInvalidIRIsStayDropped(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"@context": {"@vocab": "http://example.org/v#"}, "@id": "http://example.org/a",
	  "p": {"@id": "https://.bad/x"}, "q": {"@id": "http://example.org/ok"}}`
	for i := range 2 {
		var d map[string]any
		json.Unmarshal([]byte(doc), &d)
		got, err := c.Canonicalize(d)
		if err != nil {
			t.Fatal(err)
		}
		want := "<http://example.org/a> <http://example.org/v#q> <http://example.org/ok> .\n"
		if got != want {
			t.Fatalf("run %d: %q, want %q", i, got, want)
		}
	}
	if valid, seen := c.iris.valid["https://.bad/x"]; !seen || valid {
		t.Fatalf("verdict on https://.bad/x: cached %v, valid %v", seen, valid)
	}
}

// A document with an @json literal takes json-gold's own ToRDF.
func TestJSONLiteralUsesJSONGold(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"@context": {"@vocab": "http://example.org/v#", "j": {"@type": "@json"}}, "@id": "http://example.org/a", "j": {"b": [1, 2], "a": true}}`
	var d map[string]any
	json.Unmarshal([]byte(doc), &d)
	got, err := c.Canonicalize(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `<http://example.org/a> <http://example.org/v#j> "{\"a\":true,\"b\":[1,2]}"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> .` + "\n"
	if got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

// A list item with a relative IRI makes json-gold panic while
// canonicalising; colearn refuses the document with an error.
func TestRelativeListItemIsRefused(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"@context": {"@vocab": "http://example.org/v#", "l": {"@container": "@list"}}, "@id": "http://example.org/a", "l": [{"@id": "rel"}]}`
	var d map[string]any
	json.Unmarshal([]byte(doc), &d)
	if _, err := c.Canonicalize(d); !errors.Is(err, ErrRelativeListItem) {
		t.Fatalf("Canonicalize: %v", err)
	}
	json.Unmarshal([]byte(doc), &d)
	ds, err := jsonGoldDataset(c, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := normalizeSafely(ld.NewJsonLdApi(), ds, c.opts); err == nil {
		t.Fatal("json-gold canonicalises it after all: the refusal is not needed")
	}
}

// FuzzDatasetMatchesJSONGold holds toDataset to json-gold's ToRDF on
// arbitrary documents.
//
//	go test -fuzz=FuzzDatasetMatchesJSONGold ./federation/credential/
func FuzzDatasetMatchesJSONGold(f *testing.F) {
	c, err := NewCanonicalizer()
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range datasetDocuments(f) {
		b, _ := json.Marshal(d)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseDocument(data); err != nil {
			return
		}
		sameDataset(t, c, data)
	})
}
