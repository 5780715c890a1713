package credential

import (
	"fmt"
	"testing"
)

// TestLargeInlineContextIsNotKept: a document's own large inline context
// is parsed for it and then dropped, so 64 hostile documents cannot make
// the context cache hold 64 large bodies.
func TestLargeInlineContextIsNotKept(t *testing.T) {
	c, err := NewCanonicalizer()
	if err != nil {
		t.Fatal(err)
	}
	terms := map[string]any{}
	for i := range 400 {
		terms[fmt.Sprintf("term%d", i)] = fmt.Sprintf("https://example.org/vocab#term%d", i)
	}
	doc := map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2", terms}, "id": "urn:example:1", "term1": "x"}
	if _, err := c.Canonicalize(doc); err != nil {
		t.Fatal(err)
	}
	small := map[string]any{"@context": "https://www.w3.org/ns/credentials/v2", "id": "urn:example:2", "name": "x"}
	if _, err := c.Canonicalize(small); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.contexts {
		if len(key) > maxCachedContextBytes {
			t.Errorf("a %d-byte inline context was kept", len(key))
		}
	}
	if len(c.contexts) != 1 {
		t.Errorf("%d contexts kept, want only the small document's", len(c.contexts))
	}
}
