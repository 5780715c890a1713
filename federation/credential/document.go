package credential

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits on a credential document received from anyone.
const (
	// MaxDocument is the largest credential accepted, in bytes; an Open
	// Badges credential with an embedded image URL is a few KB.
	MaxDocument = 256 << 10
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 32
)

// Errors of ParseDocument.
var (
	ErrTooLarge     = errors.New("document too large")
	ErrTooDeep      = errors.New("document nested too deeply")
	ErrDuplicateKey = errors.New("duplicate key in JSON object")
	ErrNotObject    = errors.New("document is not a JSON object")
)

// ParseDocument decodes a JSON object received from anyone. It refuses
// documents over MaxDocument bytes (ErrTooLarge), nested deeper than
// MaxDepth (ErrTooDeep), with a key twice in one object (ErrDuplicateKey:
// parsers disagree on which one wins, so a signer and a verifier could read
// different documents), invalid UTF-8, trailing data, or anything but an
// object at the top.
func ParseDocument(data []byte) (map[string]any, error) {
	if len(data) > MaxDocument {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), MaxDocument)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("document is not valid UTF-8")
	}
	if doc, ok := parseQuickly(data); ok {
		return doc, nil
	}
	return parseByWalking(data)
}

// parseByWalking is ParseDocument's checks by a walk of data's tokens,
// which names the fault it finds.
func parseByWalking(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := checkStructure(dec); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON document")
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode document: %w", err)
	}
	return doc, nil
}

// checkStructure walks one JSON value's tokens, checking depth and keys.
func checkStructure(dec *json.Decoder) error {
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next token in an object is a key
	}
	var stack []*frame
	for first := true; first || len(stack) > 0; first = false {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decode document: %w", err)
		}
		if first {
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return ErrNotObject
			}
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.object && top.key {
				if s, ok := tok.(string); ok {
					if top.keys[s] {
						return fmt.Errorf("%w: %q", ErrDuplicateKey, s)
					}
					top.keys[s] = true
					top.key = false
					continue
				}
			} else if top.object {
				top.key = true
			}
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if len(stack) >= MaxDepth {
					return fmt.Errorf("%w: deeper than %d", ErrTooDeep, MaxDepth)
				}
				stack = append(stack, &frame{object: d == '{', keys: map[string]bool{}, key: d == '{'})
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		}
	}
	return nil
}

// parseQuickly is ParseDocument's decision for data without a fault,
// without json.Decoder's token walk (a sixth of a verification): ok is
// false at the first doubt, and the walk then finds and names the fault.
// It scans data once for nesting depth and for its object members (every
// ':' outside a string separates a member's key from its value), then
// decodes it. A decoded object has as many entries as members unless two
// of its keys are equal (after unescaping, as the walk compares them),
// and an object lost under a repeated key only lowers the count further:
// so the decoded entries add up to the members exactly when no object
// repeats a key.
func parseQuickly(data []byte) (map[string]any, bool) {
	members, depth, inString, escaped := 0, 0, false, false
	start := bytes.IndexFunc(data, func(r rune) bool { return r != ' ' && r != '\t' && r != '\n' && r != '\r' })
	if start < 0 || data[start] != '{' {
		return nil, false
	}
	for _, b := range data[start:] {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped = b == '\\'
			inString = b != '"'
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			if depth++; depth > MaxDepth {
				return nil, false
			}
		case b == '}' || b == ']':
			depth--
		case b == ':':
			members++
		}
	}
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil || entries(doc) != members {
		return nil, false
	}
	return doc, true
}

// entries counts the entries of every object in v.
func entries(v any) int {
	n := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			n += entries(e)
		}
	case map[string]any:
		n = len(x)
		for _, e := range x {
			n += entries(e)
		}
	}
	return n
}
