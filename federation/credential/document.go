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
