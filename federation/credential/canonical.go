package credential

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/piprate/json-gold/ld"
)

// Limits on what canonicalisation accepts. URDNA2015 can take exponential
// time on crafted graphs of many indistinguishable blank nodes, so a
// document with more blank nodes or statements than any credential needs
// is refused before the algorithm runs.
const (
	MaxBlankNodes = 32
	MaxQuads      = 1024
	// maxCachedContexts bounds the parsed-context cache; past it the cache
	// starts again.
	maxCachedContexts = 64
)

// ErrUndefinedTerm means a document uses a property or type that its
// contexts do not define. A lenient JSON-LD processor would drop it, so it
// would be shown but not signed: refused instead (JSON-LD "safe mode").
var ErrUndefinedTerm = errors.New("term not defined by the document's contexts")

// ErrTooComplex means a document has more blank nodes or statements than
// colearn canonicalises.
var ErrTooComplex = errors.New("document too complex to canonicalise")

// Canonicalizer turns JSON-LD into RDFC-1.0 (URDNA2015) canonical N-Quads
// through json-gold, with contexts from the Loader only. It remembers, each
// bounded and keyed by exactly what determines the result: parsed active
// contexts by the JSON of the @context value (parsing Open Badges' 14 KB
// context costs more than the rest of a credential); json-gold's verdicts
// on http(s) and relative IRIs by the IRI (iri.go); expanded proof
// configurations by everything but their creation time (prooftemplate.go);
// and expanded document structures by everything but the strings that
// expansion copies without reading (expansiontemplate.go). It is safe for
// concurrent use.
type Canonicalizer struct {
	loader *Loader
	opts   *ld.JsonLdOptions

	mu       sync.Mutex
	contexts map[string]*ld.Context

	iris       *iriChecks
	templates  *proofTemplates
	expansions *expansionTemplates
	// contextKeys holds every key of every embedded context: a superset
	// of the terms they define (expansiontemplate.go).
	contextKeys map[string]bool
}

// NewCanonicalizer returns a Canonicalizer over the embedded contexts.
func NewCanonicalizer() (*Canonicalizer, error) {
	l, err := NewLoader()
	if err != nil {
		return nil, err
	}
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = l
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.SafeMode = true
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	keys := make(map[string]bool)
	for url, d := range l.docs {
		if !contextKeys(d.Document, true, keys, 0) {
			return nil, fmt.Errorf("embedded context %s is nested too deeply", url)
		}
	}
	return &Canonicalizer{loader: l, opts: opts, contexts: make(map[string]*ld.Context), iris: newIRIChecks(),
		templates: newProofTemplates(), expansions: newExpansionTemplates(), contextKeys: keys}, nil
}

// Loader returns the document loader the canonicalizer uses.
func (c *Canonicalizer) Loader() *Loader { return c.loader }

func (c *Canonicalizer) activeContext(ctxValue any) (*ld.Context, error) {
	key, err := json.Marshal(ctxValue)
	if err != nil {
		return nil, fmt.Errorf("@context: %w", err)
	}
	c.mu.Lock()
	active, ok := c.contexts[string(key)]
	c.mu.Unlock()
	if ok {
		return active, nil
	}
	active, err = ld.NewContext(nil, c.opts).Parse(ctxValue)
	if err != nil {
		return nil, fmt.Errorf("@context: %w", err)
	}
	if len(key) > maxCachedContextBytes {
		return active, nil // a sender's own large inline context is not kept
	}
	c.mu.Lock()
	if len(c.contexts) >= maxCachedContexts {
		c.contexts = make(map[string]*ld.Context)
	}
	c.contexts[string(key)] = active
	c.mu.Unlock()
	return active, nil
}

// maxCachedContextBytes is the largest @context value (as JSON) whose
// parsed form is kept: the embedded contexts are named by URL, so a real
// credential's @context is a short list; what is larger is a document's own
// inline context, and keeping 64 of those could hold 64 request bodies.
const maxCachedContextBytes = 4 << 10

// Canonicalize returns the canonical N-Quads of doc, a JSON object as
// encoding/json decodes it (doc is not changed). It fails on a context
// that is not embedded (ErrRemoteContext), a property or type the contexts
// do not define (ErrUndefinedTerm), invalid JSON-LD, and documents past
// MaxBlankNodes or MaxQuads (ErrTooComplex).
//
// A document whose structure was seen before is not expanded again: its
// expansion comes from a template (expansiontemplate.go), exactly as
// expanding it would give.
func (c *Canonicalizer) Canonicalize(doc map[string]any) (string, error) {
	if input, ok := c.templatedExpansion(doc); ok {
		return c.canonicalExpanded(ld.NewJsonLdApi(), input, doc)
	}
	return c.canonicalFull(doc)
}

// canonicalFull is Canonicalize without expansion templates.
func (c *Canonicalizer) canonicalFull(doc map[string]any) (string, error) {
	api := ld.NewJsonLdApi()
	input, err := c.expand(api, doc)
	if err != nil {
		return "", err
	}
	return c.canonicalExpanded(api, input, doc)
}

// canonicalExpanded is Canonicalize from doc's expansion, input, which it
// consumes (building the node map changes it).
func (c *Canonicalizer) canonicalExpanded(api *ld.JsonLdApi, input []any, doc map[string]any) (string, error) {
	dataset, err := c.toDataset(api, input)
	if errors.Is(err, errJSONLiteral) {
		// json-gold's own path, from a fresh expansion: building the node
		// map rewrote types in the first one.
		fresh, expandErr := c.expand(api, doc)
		if expandErr != nil {
			return "", expandErr
		}
		dataset, err = api.ToRDF(fresh, c.opts)
	}
	if err != nil {
		return "", fmt.Errorf("to RDF: %w", err)
	}
	if err := checkSize(dataset); err != nil {
		return "", err
	}
	out, err := api.Normalize(dataset, c.opts)
	if err != nil {
		return "", fmt.Errorf("canonicalise: %w", err)
	}
	s, ok := out.(string)
	if !ok {
		return "", errors.New("canonicalise: no N-Quads produced")
	}
	return s, nil
}

// expand returns doc expanded through the cached active context of its
// @context, as the list of node objects toRDF takes, with its types
// checked.
func (c *Canonicalizer) expand(api *ld.JsonLdApi, doc map[string]any) ([]any, error) {
	ctxValue, ok := doc["@context"]
	if !ok {
		return nil, errors.New("document has no @context")
	}
	active, err := c.activeContext(ctxValue)
	if err != nil {
		return nil, err
	}
	body := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "@context" {
			body[k] = v
		}
	}
	expanded, err := api.Expand(active, "", body, c.opts, false, nil)
	if err != nil {
		return nil, fmt.Errorf("expand: %w", undefinedTerm(err))
	}
	if err := checkTypes(expanded, 0); err != nil {
		return nil, err
	}
	var input []any
	switch e := expanded.(type) {
	case nil:
	case []any:
		input = e
	case map[string]any:
		if g, ok := e["@graph"]; ok && len(e) == 1 {
			input, _ = g.([]any)
		} else if len(e) > 0 {
			input = []any{e}
		}
	}
	return input, nil
}

func undefinedTerm(err error) error {
	var le *ld.JsonLdError
	if errors.As(err, &le) && le.Code == ld.InvalidProperty {
		return fmt.Errorf("%w: %v", ErrUndefinedTerm, err)
	}
	return err
}

// checkTypes refuses @type values that did not expand to absolute IRIs,
// which json-gold keeps as relative IRIs and toRDF then drops silently.
func checkTypes(v any, depth int) error {
	if depth > MaxDepth*2 {
		return ErrTooDeep
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := checkTypes(e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		_, isValue := x["@value"]
		for k, e := range x {
			if k == "@type" && !isValue {
				for _, t := range asSlice(e) {
					s, _ := t.(string)
					if !strings.Contains(s, ":") {
						return fmt.Errorf("%w: type %q", ErrUndefinedTerm, s)
					}
				}
				continue
			}
			if err := checkTypes(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func asSlice(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	return []any{v}
}

func checkSize(ds *ld.RDFDataset) error {
	quads := 0
	blanks := make(map[string]bool)
	for _, g := range ds.Graphs {
		quads += len(g)
		for _, q := range g {
			for _, n := range []ld.Node{q.Subject, q.Object, q.Graph} {
				if n != nil && ld.IsBlankNode(n) {
					blanks[n.GetValue()] = true
				}
			}
		}
	}
	for name := range ds.Graphs {
		if strings.HasPrefix(name, "_:") {
			blanks[name] = true
		}
	}
	if quads > MaxQuads || len(blanks) > MaxBlankNodes {
		return fmt.Errorf("%w: %d statements, %d blank nodes (at most %d and %d)", ErrTooComplex, quads, len(blanks), MaxQuads, MaxBlankNodes)
	}
	return nil
}
