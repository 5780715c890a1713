package credential

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/piprate/json-gold/ld"
)

// maxExpansionTemplates bounds the expansion templates kept, and the
// shapes remembered; past it each map starts again.
const maxExpansionTemplates = 128

// maxTemplateLeaves is the most string leaves, and maxTemplateBytes the
// most bytes of encoding and leaves, a templated document has; a larger
// one takes the full path. They bound what the templates and their keys
// hold (an Open Badges credential has about 40 leaves and 3 KB).
const (
	maxTemplateLeaves = 512
	maxTemplateBytes  = 64 << 10
)

// placeholderBase starts every placeholder. A placeholder is an absolute
// IRI with an authority ("https://…"), so JSON-LD returns it unchanged
// wherever it expands it as an IRI; the nonce makes it occur nowhere else.
const placeholderBase = "https://placeholder.colearn.invalid/"

// expansionTemplates keeps the expansions of document structures, so that
// a credential whose structure was seen before is not expanded again.
//
// What it caches. JSON-LD expansion (json-gold v0.9.1, ld/api_expand.go
// and Context.ExpandValue/ExpandIri in ld/context.go) reads the content of
// a document's keys, of its @context values, of the values of keywords
// (@type and its aliases select type-scoped contexts; @language is
// lowercased; @index, @direction are kept aside) and of strings it expands
// as vocabulary-relative IRIs. Two kinds of string leaf it never reads:
//
//   - a string that becomes a value object's @value (through
//     Context.ExpandValue for a term not typed @id or @vocab, through the
//     @value keyword, a language map or an @json term): the string is
//     copied as it stands, whatever it holds; the term, its type, language
//     and direction, the default language, decide the rest.
//   - a string that becomes an @id (the @id keyword or its aliases, a term
//     typed @id or @vocab) when it has the form prefix:suffix with a
//     non-empty prefix and (a) the prefix is "_" or the suffix starts with
//     "//", or (b) the prefix is not a term and the string is an absolute
//     IRI, and the string itself is not a term: ExpandIri then returns it
//     unchanged (steps 1-4 of ld/context.go ExpandIri; no base resolution,
//     no compact IRI). verbatimIRI checks that with every key of every
//     context that can be active (the embedded contexts' and the
//     document's own), a superset of the terms.
//
// So the expansion of a document is a function of its structure (the
// document with those leaves taken out) into which the leaves are copied.
// A template is built from a document the second time its structure is
// met (see tries). Every candidate string leaf (outside @context, not
// under a key that is usually a keyword alias) is replaced by a distinct
// placeholder and the result is expanded. A leaf is templated only if its placeholder occurs exactly
// once in the expansion, as the whole value of an @value or @id entry,
// and nowhere else (not in a key, an @type, an @index, a derived IRI).
// The leaves that fail, and the document's leaves that become an @id but
// fail verbatimIRI, are put back and the expansion is done once more;
// then every leaf left must pass, or nothing is cached. The template is
// kept under the structure key: the document injectively encoded, with
// the templated leaves replaced by a marker no JSON value encodes to. So
// a document hits it only if everything expansion reads is the same, and
// its own leaves are copied into a copy of the template. A leaf that
// became an @id must pass verbatimIRI for each document, or the document
// takes the full path.
//
// Nothing of one document reaches another: the template holds only the
// structure, which is in its key, and placeholders, each of which is
// replaced. The differential tests (expansiontemplate_test.go) hold the
// templated canonical N-Quads to json-gold's uncached Normalize byte for
// byte. It is safe for concurrent use.
type expansionTemplates struct {
	mu sync.RWMutex
	// templated is, by shape (the document with every candidate leaf
	// replaced by a marker), which leaves the last template built for that
	// shape templates: it says which structure key to look for.
	templated map[string][]bool
	// byKey holds templates by structure key.
	byKey map[string]*expansionTemplate
	// tries says, by the structure key of a first try (firstTry), whether
	// a structure was met (false) or failed to be templated (true). A
	// structure is templated the second time it is met, so that documents
	// of ever new structures cost one expansion each, and one that failed
	// is not tried again.
	tries map[string]bool
}

func newExpansionTemplates() *expansionTemplates {
	return &expansionTemplates{templated: make(map[string][]bool), byKey: make(map[string]*expansionTemplate), tries: make(map[string]bool)}
}

// expansionTemplate is a structure's expansion with a placeholder for each
// templated leaf.
type expansionTemplate struct {
	expanded []any
	slots    []slot
	// terms are the keys in the document's own @context values.
	terms map[string]bool
}

// slot is where a templated leaf goes: entry key ("@value" or "@id") of
// the object at path out in the expansion.
type slot struct {
	leaf int
	out  []any
	key  string
}

// shape is a document's encoding and its candidate string leaves, in the
// order of a walk with sorted keys.
type shape struct {
	enc    []byte
	marks  []int    // offset in enc of each leaf's marker
	leaves []string // the leaves
	under  []string // the key each leaf is under
	// leafBytes is the length of the leaves.
	leafBytes int
}

// templatedExpansion returns doc's expansion from a template, building one
// if doc's structure has none yet. ok is false when doc must take the full
// path: it is not plain JSON, it has no template and cannot have one, or
// a leaf that becomes an @id is not one ExpandIri returns unchanged.
func (c *Canonicalizer) templatedExpansion(doc map[string]any) (input []any, ok bool) {
	if !plainJSON(doc, 0) {
		return nil, false
	}
	var sh shape
	if !sh.walk(doc, false, "", 0) || len(sh.leaves) == 0 || len(sh.enc)+sh.leafBytes > maxTemplateBytes {
		return nil, false
	}
	first := sh.firstTry()
	firstKey := string(sh.key(first))
	c.expansions.mu.RLock()
	var t *expansionTemplate
	if which := c.expansions.templated[string(sh.enc)]; which != nil {
		t = c.expansions.byKey[string(sh.key(which))]
	}
	failed, met := c.expansions.tries[firstKey]
	c.expansions.mu.RUnlock()
	if t == nil {
		if !met || failed {
			if !met {
				c.expansions.remember(firstKey, false, "", "", nil, nil)
			}
			return nil, false
		}
		var which []bool
		if t, which = c.buildTemplate(doc, &sh, first); t == nil {
			c.expansions.remember(firstKey, true, "", "", nil, nil)
			return nil, false
		}
		c.expansions.remember(firstKey, false, string(sh.enc), string(sh.key(which)), which, t)
	}
	return c.instantiate(t, sh.leaves)
}

// remember records a try and, when t is not nil, t and the leaves it
// templates.
func (e *expansionTemplates) remember(firstKey string, failed bool, shape, key string, which []bool, t *expansionTemplate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range []int{len(e.tries), len(e.templated), len(e.byKey)} {
		if m >= maxExpansionTemplates {
			e.tries, e.templated, e.byKey = make(map[string]bool), make(map[string][]bool), make(map[string]*expansionTemplate)
		}
	}
	e.tries[firstKey] = failed
	if t != nil {
		e.templated[shape] = which
		e.byKey[key] = t
	}
}

// instantiate copies t's expansion and puts each templated leaf in its
// slot; ok is false when a leaf in an @id slot fails verbatimIRI.
func (c *Canonicalizer) instantiate(t *expansionTemplate, leaves []string) ([]any, bool) {
	for _, s := range t.slots {
		if s.key == "@id" && !c.verbatimIRI(leaves[s.leaf], t.terms) {
			return nil, false
		}
	}
	input := copyJSON(t.expanded).([]any)
	for _, s := range t.slots {
		m, ok := at(input, s.out).(map[string]any)
		if !ok {
			return nil, false
		}
		m[s.key] = leaves[s.leaf]
	}
	if checkTypes(input, 0) != nil {
		return nil, false
	}
	return input, true
}

// buildTemplate expands doc with placeholders for its candidate leaves.
// It returns the template and the leaves it templates, or nil when no
// template holds at least one leaf after two expansions.
func (c *Canonicalizer) buildTemplate(doc map[string]any, sh *shape, first []bool) (*expansionTemplate, []bool) {
	which := slices.Clone(first)
	prefix := placeholderBase
	for n := 0; bytes.Contains(sh.enc, []byte(prefix)) || slices.ContainsFunc(sh.leaves, func(s string) bool { return strings.Contains(s, prefix) }); n++ {
		prefix = placeholderBase + strconv.Itoa(n) + "/"
	}
	terms := make(map[string]bool)
	if !contextKeys(doc, false, terms, 0) {
		return nil, nil
	}
	for pass := 0; pass < 2; pass++ {
		counter := 0
		skeleton := replaceLeaves(doc, false, &counter, func(i int) (string, bool) {
			return prefix + strconv.Itoa(i) + "/", which[i]
		}).(map[string]any)
		expanded, err := c.expand(ld.NewJsonLdApi(), skeleton)
		if err != nil {
			return nil, nil
		}
		slots, passed := locatePlaceholders(expanded, prefix, which)
		if passed == nil {
			return nil, nil
		}
		// A leaf of this document that becomes an @id ExpandIri changes
		// (a term, a prefixed name) is part of the structure.
		slots = slices.DeleteFunc(slots, func(s slot) bool {
			if s.key == "@id" && !c.verbatimIRI(sh.leaves[s.leaf], terms) {
				passed[s.leaf] = false
				return true
			}
			return false
		})
		if len(slots) == 0 {
			return nil, nil
		}
		if slices.Equal(passed, which) {
			return &expansionTemplate{expanded: expanded, slots: slots, terms: terms}, which
		}
		which = passed
	}
	return nil, nil
}

// locatePlaceholders finds each placeholder in the expansion of a
// skeleton. A leaf passes when its placeholder occurs once, as the whole
// value of an @value or @id entry, and nowhere else. Both results are nil
// when a placeholder is in a key or cannot be told apart.
func locatePlaceholders(expanded []any, prefix string, which []bool) ([]slot, []bool) {
	found := make([][]slot, len(which))
	bad := make([]bool, len(which))
	broken := false
	ordinal := func(s string) int {
		i := strings.Index(s, prefix)
		rest := s[i+len(prefix):]
		end := strings.IndexByte(rest, '/')
		n, err := strconv.Atoi(rest[:max(end, 0)])
		if end < 0 || err != nil || n < 0 || n >= len(which) || !which[n] {
			broken = true
			return -1
		}
		return n
	}
	var walk func(v any, path []any)
	walk = func(v any, path []any) {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				walk(e, append(path[:len(path):len(path)], i))
			}
		case map[string]any:
			for k, e := range x {
				if strings.Contains(k, prefix) {
					broken = true
					return
				}
				s, isString := e.(string)
				if !isString {
					walk(e, append(path[:len(path):len(path)], k))
					continue
				}
				if !strings.Contains(s, prefix) {
					continue
				}
				n := ordinal(s)
				if n < 0 {
					return
				}
				if (k == "@value" || k == "@id") && s == prefix+strconv.Itoa(n)+"/" {
					found[n] = append(found[n], slot{leaf: n, out: path, key: k})
				} else {
					bad[n] = true
				}
			}
		case string:
			if strings.Contains(x, prefix) {
				if n := ordinal(x); n >= 0 {
					bad[n] = true
				}
			}
		}
	}
	walk(expanded, nil)
	if broken {
		return nil, nil
	}
	var slots []slot
	passed := make([]bool, len(which))
	for n := range which {
		if which[n] && !bad[n] && len(found[n]) == 1 {
			passed[n] = true
			slots = append(slots, found[n][0])
		}
	}
	return slots, passed
}

// verbatimIRI reports whether json-gold's ExpandIri returns s unchanged
// in every active context whose terms are among c.contextKeys and terms,
// whether it expands s as a document-relative or a vocabulary-relative
// IRI (see expansionTemplates).
func (c *Canonicalizer) verbatimIRI(s string, terms map[string]bool) bool {
	isTerm := func(t string) bool { return c.contextKeys[t] || terms[t] }
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || isTerm(s) {
		return false
	}
	prefix, suffix := s[:colon], s[colon+1:]
	if prefix == "_" || strings.HasPrefix(suffix, "//") {
		return true
	}
	return !isTerm(prefix) && ld.IsAbsoluteIri(s)
}

// firstTry is which leaves a template first tries to hold: those not
// under a likely keyword.
func (sh *shape) firstTry() []bool {
	which := make([]bool, len(sh.leaves))
	for i, k := range sh.under {
		which[i] = !likelyKeyword(k)
	}
	return which
}

// likelyKeyword reports whether a leaf under key k is better not
// templated on the first try: k is a keyword or an alias contexts
// commonly give one. It only saves a second expansion; the placeholders
// decide.
func likelyKeyword(k string) bool {
	switch k {
	case "type", "@type", "@language", "@direction", "@index", "@base", "@vocab":
		return true
	}
	return false
}

// walk encodes v into sh.enc (injectively: strings quoted, numbers in
// shortest form, a marker '?' for each candidate leaf, which no JSON value
// encodes to) and collects the candidate leaves: strings outside @context.
func (sh *shape) walk(v any, inContext bool, under string, depth int) bool {
	if depth > MaxDepth || len(sh.leaves) > maxTemplateLeaves {
		return false
	}
	switch x := v.(type) {
	case nil:
		sh.enc = append(sh.enc, 'n')
	case bool:
		sh.enc = strconv.AppendBool(sh.enc, x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
		sh.enc = append(sh.enc, '#')
		sh.enc = strconv.AppendFloat(sh.enc, x, 'g', -1, 64)
	case string:
		if inContext {
			sh.enc = strconv.AppendQuote(sh.enc, x)
			break
		}
		sh.marks = append(sh.marks, len(sh.enc))
		sh.leaves = append(sh.leaves, x)
		sh.leafBytes += len(x)
		sh.under = append(sh.under, under)
		sh.enc = append(sh.enc, '?')
	case []any:
		sh.enc = append(sh.enc, '[')
		for _, e := range x {
			if !sh.walk(e, inContext, under, depth+1) {
				return false
			}
			sh.enc = append(sh.enc, ',')
		}
		sh.enc = append(sh.enc, ']')
	case map[string]any:
		sh.enc = append(sh.enc, '{')
		for _, k := range sortedKeys(x) {
			sh.enc = strconv.AppendQuote(sh.enc, k)
			sh.enc = append(sh.enc, ':')
			if !sh.walk(x[k], inContext || k == "@context", k, depth+1) {
				return false
			}
			sh.enc = append(sh.enc, ',')
		}
		sh.enc = append(sh.enc, '}')
	default:
		return false
	}
	return true
}

// key is the structure key: the shape with each leaf's marker replaced by
// the leaf, quoted, or by '!' where templated.
func (sh *shape) key(templated []bool) []byte {
	out := make([]byte, 0, len(sh.enc)+16*len(sh.leaves))
	last := 0
	for i, m := range sh.marks {
		out = append(out, sh.enc[last:m]...)
		if templated[i] {
			out = append(out, '!')
		} else {
			out = strconv.AppendQuote(out, sh.leaves[i])
		}
		last = m + 1
	}
	return append(out, sh.enc[last:]...)
}

// replaceLeaves copies v with each candidate leaf i (counted as shape.walk
// counts them) replaced by repl(i) when repl says so.
func replaceLeaves(v any, inContext bool, counter *int, repl func(int) (string, bool)) any {
	switch x := v.(type) {
	case string:
		if inContext {
			return x
		}
		i := *counter
		*counter++
		if s, ok := repl(i); ok {
			return s
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = replaceLeaves(e, inContext, counter, repl)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			out[k] = replaceLeaves(x[k], inContext || k == "@context", counter, repl)
		}
		return out
	}
	return v
}

// contextKeys adds to keys every key of an object inside an @context
// value of v (or inside v itself when inContext). It returns false, and
// may have missed some, when v is nested deeper than it walks.
func contextKeys(v any, inContext bool, keys map[string]bool, depth int) bool {
	if depth > 4*MaxDepth {
		return false
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if !contextKeys(e, inContext, keys, depth+1) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if inContext {
				keys[k] = true
			}
			if !contextKeys(e, inContext || k == "@context", keys, depth+1) {
				return false
			}
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
