package credential

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"
)

// templateCorpus is JSON-LD that puts string leaves where expansion reads
// them (keyword aliases, type-scoped and property-scoped contexts, @id and
// @vocab coercion, prefixes, @base, language and direction, @json, maps of
// every container, lists, nesting, reverse properties, named graphs) next
// to leaves it copies, so that mutating a leaf moves it between the two.
var templateCorpus = []string{
	`{"@context": {"@vocab": "http://example.org/v#", "kind": "@type", "ident": "@id", "ex": "http://example.org/ex#",
	  "urn": "http://example.org/urn#", "ref": {"@type": "@id"}, "voc": {"@type": "@vocab"}, "T": "http://example.org/T",
	  "U": {"@id": "http://example.org/U", "@context": {"name": {"@id": "http://example.org/uname", "@language": "fr"}, "ref": {"@type": "@vocab"}}}},
	  "ident": "https://a.example/1", "kind": ["T", "U"], "ref": "https://b.example/2", "voc": "T", "name": "x", "other": "y",
	  "child": {"ident": "urn:x", "kind": "U", "name": "z", "ref": "T", "voc": "ex:y"}}`,
	`{"@context": {"@vocab": "http://example.org/v#", "@base": "http://example.org/base/", "@language": "en", "@direction": "rtl",
	  "link": {"@type": "@id"}, "plain": {"@language": null}, "dir": {"@direction": null}, "lit": {"@type": "@json"},
	  "date": {"@type": "http://www.w3.org/2001/XMLSchema#dateTime"}, "lang": "@language", "idx": "@index", "val": "@value"},
	  "aliased": {"val": "hola", "lang": "ES-mx"}, "indexed": {"val": "i", "idx": "Ix"},
	  "@id": "rel/a", "link": ["https://c.example/3", "rel/b", "_:b1"], "plain": "p", "dir": "d", "text": "t",
	  "lit": {"a": "json string", "b": ["x", 1]}, "lit2": {"@value": "raw", "@type": "@json"}, "date": "2024-01-01T00:00:00Z",
	  "tagged": {"@value": "bonjour", "@language": "FR-ca"}, "typed": {"@value": "v", "@type": "http://example.org/dt"}}`,
	`{"@context": {"@vocab": "http://example.org/v#", "byLang": {"@container": "@language"}, "byIndex": {"@container": "@index"},
	  "byId": {"@container": "@id"}, "byType": {"@container": "@type"}, "byProp": {"@container": "@index", "@index": "prop"},
	  "list": {"@container": "@list"}, "set": {"@container": "@set"}, "nest": "@nest", "knownBy": {"@reverse": "http://example.org/v#knows"},
	  "scoped": {"@context": {"inner": {"@type": "@id"}}}, "A": {"@id": "http://example.org/A", "@context": {"x": {"@type": "@id"}}}},
	  "@id": "https://d.example/4",
	  "byLang": {"en": "hello", "de": ["hallo", "servus"], "@none": "none"},
	  "byIndex": {"one": "first", "two": {"@id": "https://e.example/5", "p": "q"}},
	  "byId": {"https://f.example/6": {"p": "r"}, "rel": {"p": "s"}},
	  "byType": {"A": {"x": "https://g.example/7", "p": "t"}, "http://example.org/B": "https://h.example/8"},
	  "byProp": {"k": {"@id": "https://i.example/9"}},
	  "list": ["l1", "https://j.example/10", {"@id": "https://k.example/11"}], "set": ["s1", "s1"],
	  "nest": {"nested": "n"}, "knownBy": {"@id": "https://l.example/12", "p": "u"},
	  "scoped": {"inner": "https://m.example/13", "p": "v"}, "dup": ["same", "same", "https://n.example/14"]}`,
	`{"@context": {"@vocab": "http://example.org/v#"}, "@id": "https://o.example/g",
	  "@graph": [{"@id": "https://o.example/s", "p": "o"}, {"p": "blank", "@type": "T"}],
	  "@included": [{"@id": "https://o.example/inc", "p": "w"}], "label": "g", "@index": "ix"}`,
}

// templateDocuments is every document the template must get right: the
// corpus above, toDataset's, colearn's own, and every W3C vector.
func templateDocuments(t testing.TB) map[string]map[string]any {
	docs := datasetDocuments(t)
	for i, s := range templateCorpus {
		var d map[string]any
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatalf("template corpus %d: %v", i, err)
		}
		docs[fmt.Sprintf("template corpus %d", i)] = d
	}
	files, _ := filepath.Glob("testdata/eddsa/*.json")
	more, _ := filepath.Glob("testdata/eddsa/*/*.json")
	deeper, _ := filepath.Glob("testdata/eddsa/*/*/*.json")
	for _, f := range append(append(files, more...), deeper...) {
		if strings.HasSuffix(f, "keyPair.json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		docs[f] = d
		if p, ok := d["proof"].(map[string]any); ok {
			// the unsecured document and the proof configuration as signed
			un := copyJSON(d).(map[string]any)
			delete(un, "proof")
			docs[f+" unsecured"] = un
			cfg := copyJSON(p).(map[string]any)
			delete(cfg, "proofValue")
			cfg["@context"] = d["@context"]
			docs[f+" proof configuration"] = cfg
		}
	}
	if len(files) < 3 || len(more) < 4 {
		t.Fatalf("the W3C vectors are missing from testdata/eddsa: %v %v", files, more)
	}
	return docs
}

// leafStrings are what a mutated leaf becomes: IRIs of every form, terms
// and prefixes of the contexts, keywords, language tags, placeholders.
var leafStrings = []string{
	"", "x", "Go expert", "https://evil.example/x", "http://example.org/v#p", "https://learn.example/credentials/other",
	"urn:uuid:0b5e7a5e-1111-4222-8333-444455556666", "urn:x", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
	"_:b0", "_:c14n0", "rel/path", "../up", "#frag", "?q", "//host/x", "mailto:x@example.org", "xsd:string",
	"xsd:dateTime", "dc:title", "ex:y", "ex://y", "schema:name", "cred:x", "sec:x", "as:Public", "@id", "@type", "@vocab", "@none",
	"@json", "@context", "@foo", "id", "type", "name", "T", "U", "A", "Achievement", "OpenBadgeCredential",
	"VerifiableCredential", "Profile", "AchievementSubject", "en", "EN-gb", "ltr", "rtl", "2024-01-01T00:00:00Z", "5",
	"true", "null", "ü", "quote\" and \n newline", placeholderBase + "0/", placeholderBase + "3/", placeholderBase,
	"https://a", "https:no-slashes", "http://exa mple.org/a", "https://.bad/x", "https://www.w3.org/ns/credentials/v2",
	"https://o.example/s", "https://a.example/1",
}

// leafValues are non-string replacements, which change the structure.
var leafValues = []any{5.0, true, nil, map[string]any{}, []any{}, map[string]any{"@value": "x"},
	map[string]any{"@id": "https://x.example/"}, []any{"a", "b"}}

// leaves lists the string leaves of v outside @context, in the order
// shape.walk counts them.
func leaves(v any) []string {
	var sh shape
	sh.walk(v, false, "", 0)
	return sh.leaves
}

// mutate returns doc with leaf i replaced by with.
func mutate(doc map[string]any, i int, with any) map[string]any {
	n := 0
	var rec func(v any, inContext bool) any
	rec = func(v any, inContext bool) any {
		switch x := v.(type) {
		case string:
			if inContext {
				return x
			}
			n++
			if n-1 == i {
				return copyJSON(with)
			}
			return x
		case []any:
			out := make([]any, len(x))
			for j, e := range x {
				out[j] = rec(e, inContext)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(x))
			for _, k := range sortedKeys(x) {
				out[k] = rec(x[k], inContext || k == "@context")
			}
			return out
		}
		return v
	}
	return rec(doc, false).(map[string]any)
}

// sameAsUncached fails t unless c (which has seen other documents)
// expands doc exactly as a full expansion does, gives the canonical
// N-Quads and error of a Canonicalizer without templates, and, when that
// succeeds, the N-Quads of json-gold's own uncached Normalize. It reports
// whether the expansion came from a template.
func sameAsUncached(t *testing.T, c, fresh *Canonicalizer, doc map[string]any) bool {
	t.Helper()
	doc = copyJSON(doc).(map[string]any)
	templated, hit := c.templatedExpansion(doc)
	if hit {
		full, err := fresh.expand(ld.NewJsonLdApi(), copyJSON(doc).(map[string]any))
		if err != nil {
			t.Fatalf("templated a document whose expansion fails (%v): %v", err, js(doc))
		}
		if !reflect.DeepEqual(templated, full) {
			t.Fatalf("template expansion differs for %s:\n%s\nfull expansion:\n%s", js(doc), js(templated), js(full))
		}
	}
	got, gotErr := c.Canonicalize(copyJSON(doc).(map[string]any))
	want, wantErr := fresh.canonicalFull(copyJSON(doc).(map[string]any))
	// Only whether it fails: json-gold parses a context's terms in map
	// order, so which of two faults it names can change between runs.
	if got != want || (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("document %s:\ntemplated (%v):\n%s\nuncached (%v):\n%s", js(doc), gotErr, got, wantErr, want)
	}
	if wantErr == nil {
		gold, err := jsonGoldNormalize(fresh, copyJSON(doc).(map[string]any))
		if err != nil || gold != got {
			t.Fatalf("document %s:\ncolearn:\n%s\njson-gold Normalize (%v):\n%s", js(doc), got, err, gold)
		}
	}
	return hit
}

// jsonGoldNormalize is json-gold's JsonLdProcessor.Normalize, from the
// document itself, with nothing cached.
func jsonGoldNormalize(c *Canonicalizer, doc map[string]any) (s string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("json-gold panicked: %v", p)
		}
	}()
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = c.loader
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.SafeMode = true
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	out, err := ld.NewJsonLdProcessor().Normalize(doc, opts)
	if err != nil {
		return "", err
	}
	s, _ = out.(string)
	return s, nil
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Every document, and every document with one leaf replaced (by each kind
// of string, by another leaf's string, by a non-string) or several, after
// the canonicalizer has seen the original: the templated expansion is the
// full one, and the N-Quads are json-gold's.
func TestExpansionTemplateMatchesJSONGold(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := NewCanonicalizer()
	fresh.expansions = nil
	rng := rand.New(rand.NewPCG(1, 2))
	hits, total := 0, 0
	docs := templateDocuments(t)
	for _, name := range sortedKeys(func() map[string]any {
		m := make(map[string]any)
		for k := range docs {
			m[k] = nil
		}
		return m
	}()) {
		doc := docs[name]
		t.Run(name, func(t *testing.T) {
			// Each document twice: a structure is templated the second
			// time it is met.
			check := func(d map[string]any) {
				for range 2 {
					total++
					if sameAsUncached(t, c, fresh, d) {
						hits++
					}
				}
			}
			h0, t0 := hits, total
			check(doc)
			defer func() { t.Logf("%d of %d from a template", hits-h0, total-t0) }()
			ls := leaves(doc)
			for i := range ls {
				for range 2 {
					check(mutate(doc, i, leafStrings[rng.IntN(len(leafStrings))]))
				}
				check(mutate(doc, i, ls[rng.IntN(len(ls))]))
				if rng.IntN(4) == 0 {
					check(mutate(doc, i, leafValues[rng.IntN(len(leafValues))]))
				}
			}
			for range 10 {
				d := doc
				for range 1 + rng.IntN(4) {
					d = mutate(d, rng.IntN(len(ls)), leafStrings[rng.IntN(len(leafStrings))])
				}
				check(d)
			}
		})
	}
	t.Logf("%d of %d documents expanded from a template", hits, total)
	if hits < total/2 {
		t.Fatalf("only %d of %d documents expanded from a template: the test does not exercise it", hits, total)
	}
}

// A leaf that becomes an @id is substituted only when ExpandIri returns it
// unchanged: "urn:x" where the context makes "urn" a prefix expands to
// another IRI, and "a://b" as a vocabulary IRI where the context maps the
// term "a://b" to null expands to nothing, so they take the full path.
func TestExpansionTemplateKeepsPrefixedIRIs(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	doc := func(id, ref string) map[string]any {
		var d map[string]any
		json.Unmarshal([]byte(`{"@context": {"@vocab": "http://example.org/v#", "urn": "http://example.org/urn#", "ref": {"@type": "@id"}},
		  "@id": "`+id+`", "ref": "`+ref+`", "name": "n"}`), &d)
		return d
	}
	if _, ok := c.templatedExpansion(doc("https://a.example/1", "https://b.example/2")); ok {
		t.Fatal("a structure met the first time was templated")
	}
	if _, ok := c.templatedExpansion(doc("https://a.example/1", "https://b.example/2")); !ok {
		t.Fatal("a structure met the second time was not templated")
	}
	if _, ok := c.templatedExpansion(doc("https://a.example/3", "https://b.example/4")); !ok {
		t.Fatal("a document of the same structure was not templated")
	}
	if _, ok := c.templatedExpansion(doc("urn:x", "https://b.example/4")); ok {
		t.Fatal("a prefixed @id was substituted")
	}
	got, err := c.Canonicalize(doc("urn:x", "urn:y"))
	if err != nil || !strings.Contains(got, "<http://example.org/urn#x>") || !strings.Contains(got, "<http://example.org/urn#y>") {
		t.Fatalf("urn:x and urn:y not expanded through the prefix (%v):\n%s", err, got)
	}
	vocab := func(v string) map[string]any {
		var d map[string]any
		json.Unmarshal([]byte(`{"@context": {"@vocab": "http://example.org/v#", "voc": {"@type": "@vocab"}, "a://b": null},
		  "@id": "https://a.example/1", "voc": "`+v+`"}`), &d)
		return d
	}
	for _, v := range []string{"https://c.example/1", "https://c.example/2"} {
		c.Canonicalize(vocab(v))
	}
	if _, ok := c.templatedExpansion(vocab("https://c.example/3")); !ok {
		t.Fatal("a vocabulary IRI was not templated")
	}
	got, err = c.Canonicalize(vocab("a://b"))
	if err != nil || strings.Contains(got, "a://b") {
		t.Fatalf("the null term a://b was substituted (%v):\n%s", err, got)
	}
}

// FuzzExpansionTemplate holds templated expansion to the full one, and to
// json-gold's Normalize, for any document and any two leaves replaced
// after the canonicalizer has seen it.
//
//	go test -fuzz=FuzzExpansionTemplate ./federation/credential/
func FuzzExpansionTemplate(f *testing.F) {
	c, err := NewCanonicalizer()
	if err != nil {
		f.Fatal(err)
	}
	fresh, _ := NewCanonicalizer()
	fresh.expansions = nil
	for _, d := range templateDocuments(f) {
		f.Add(js(d), uint(0), "https://x.example/", uint(3), "urn:x")
		f.Add(js(d), uint(5), "@id", uint(1), "_:b0")
	}
	f.Fuzz(func(t *testing.T, data string, i uint, a string, j uint, b string) {
		doc, err := ParseDocument([]byte(data))
		if err != nil {
			return
		}
		sameAsUncached(t, c, fresh, doc)
		n := uint(len(leaves(doc)))
		if n == 0 {
			return
		}
		d := mutate(doc, int(i%n), a)
		sameAsUncached(t, c, fresh, d)
		sameAsUncached(t, c, fresh, mutate(d, int(j%n), b))
	})
}

// A document past maxTemplateBytes is never templated, so no template or
// key holds more than that bound.
func TestExpansionTemplateBoundsDocuments(t *testing.T) {
	t.Parallel()
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	doc := func(n int) map[string]any {
		return map[string]any{"@context": map[string]any{"@vocab": "http://example.org/v#"}, "@id": "https://a.example/1", "p": strings.Repeat("x", n)}
	}
	for _, n := range []int{10, maxTemplateBytes} {
		for range 2 {
			c.Canonicalize(doc(n))
		}
		_, ok := c.templatedExpansion(doc(n))
		if want := n < maxTemplateBytes; ok != want {
			t.Fatalf("%d bytes: templated %v, want %v", n, ok, want)
		}
	}
	if got, want := len(c.expansions.byKey), 1; got != want {
		t.Fatalf("%d templates kept, want %d", got, want)
	}
}
