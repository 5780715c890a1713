package credential

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/piprate/json-gold/ld"
)

// maxProofTemplates bounds the expanded proof configurations kept; past it
// the cache starts again.
const maxProofTemplates = 256

// proofTemplate is a proof configuration expanded once, with the path to
// the value object its "created" string expanded to.
type proofTemplate struct {
	expanded []any
	path     []any // map keys (string) and list indices (int)
}

// proofTemplates keeps expanded proof configurations by everything in them
// but "created". The proof configuration of an issuer's credentials (its
// @context, type, cryptosuite, key, purpose) is the same for all of them
// but its creation time, and expanding it costs as much as the rest of its
// canonicalisation: so it is expanded once, and each credential's time is
// put in the value object it expands to. That is exact because JSON-LD
// expands a string into a value object without looking at the string: a
// value object's @value is the string as it stands, whatever the term's
// type, language or container (a term that makes the string an IRI gives
// @id, not @value, and is never templated). It is safe for concurrent use.
type proofTemplates struct {
	mu    sync.RWMutex
	byKey map[string]*proofTemplate
}

func newProofTemplates() *proofTemplates {
	return &proofTemplates{byKey: make(map[string]*proofTemplate)}
}

// canonicalProofConfig is Canonicalize(config), with config's expansion
// taken from c.templates when only "created" differs from one seen before.
func (c *Canonicalizer) canonicalProofConfig(config map[string]any) (string, error) {
	created, ok := config["created"].(string)
	rest := make(map[string]any, len(config))
	for k, v := range config {
		if k != "created" {
			rest[k] = v
		}
	}
	var key []byte
	if ok && plainJSON(rest, 0) {
		key, _ = json.Marshal(rest)
	}
	if key == nil {
		return c.Canonicalize(config)
	}
	c.templates.mu.RLock()
	t := c.templates.byKey[string(key)]
	c.templates.mu.RUnlock()
	if t == nil {
		if t = c.newProofTemplate(rest, string(key)); t == nil {
			return c.Canonicalize(config)
		}
		c.templates.mu.Lock()
		if len(c.templates.byKey) >= maxProofTemplates {
			c.templates.byKey = make(map[string]*proofTemplate)
		}
		c.templates.byKey[string(key)] = t
		c.templates.mu.Unlock()
	}
	input := copyJSON(t.expanded).([]any)
	value, ok := at(input, t.path).(map[string]any)
	if !ok {
		return "", errors.New("proof configuration: template lost its created value")
	}
	value["@value"] = created
	return c.canonicalExpanded(ld.NewJsonLdApi(), input, config)
}

// newProofTemplate expands rest with a placeholder "created" that occurs
// nowhere in rest (whose JSON is key), so the one value object holding it
// can only be created's. It returns nil when there is not exactly one, or
// when the expansion fails (Canonicalize then runs on the configuration
// itself and reports its own error).
func (c *Canonicalizer) newProofTemplate(rest map[string]any, key string) *proofTemplate {
	placeholder := "colearn-created-placeholder"
	for strings.Contains(key, placeholder) {
		placeholder += "-"
	}
	config := make(map[string]any, len(rest)+1)
	for k, v := range rest {
		config[k] = v
	}
	config["created"] = placeholder
	expanded, err := c.expand(ld.NewJsonLdApi(), config)
	if err != nil {
		return nil
	}
	var paths [][]any
	var walk func(v any, path []any)
	walk = func(v any, path []any) {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				walk(e, append(path[:len(path):len(path)], i))
			}
		case map[string]any:
			if s, ok := x["@value"].(string); ok && s == placeholder {
				paths = append(paths, path)
			}
			for k, e := range x {
				walk(e, append(path[:len(path):len(path)], k))
			}
		}
	}
	walk(expanded, nil)
	if len(paths) != 1 {
		return nil
	}
	return &proofTemplate{expanded: expanded, path: paths[0]}
}

// plainJSON reports whether v holds only what encoding/json decodes JSON
// into, with valid UTF-8 strings, so that json.Marshal gives two different
// values two different encodings (it would replace invalid UTF-8, and
// encode a json.Number and a float64 alike).
func plainJSON(v any, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	switch x := v.(type) {
	case nil, bool, float64:
		return true
	case string:
		return utf8.ValidString(x)
	case []any:
		for _, e := range x {
			if !plainJSON(e, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !plainJSON(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// copyJSON copies the maps and lists of an expanded document.
func copyJSON(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyJSON(e)
		}
		return out
	}
	return v
}

func at(v any, path []any) any {
	for _, step := range path {
		switch s := step.(type) {
		case int:
			l, ok := v.([]any)
			if !ok || s >= len(l) {
				return nil
			}
			v = l[s]
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[s]
		default:
			return nil
		}
	}
	return v
}
