package federation

import (
	"errors"
	"fmt"
	"strings"
)

// SignatureParams are the parameters of a draft-cavage-12 Signature header.
type SignatureParams struct {
	KeyID     string
	Algorithm string
	// Headers are the signed header names, lower-cased, in signing order.
	Headers   []string
	Signature string
}

// ParseSignatureHeader parses the value of a Signature header (or of an
// Authorization header after its "Signature " scheme). It requires keyId and
// signature, defaults headers to "date" as the draft says, and rejects
// duplicate, unquoted or unterminated parameters.
func ParseSignatureHeader(v string) (SignatureParams, error) {
	var p SignatureParams
	seen := map[string]bool{}
	s := strings.TrimSpace(v)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return SignatureParams{}, errors.New("malformed signature parameter")
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = s[eq+1:]
		if !strings.HasPrefix(s, `"`) {
			return SignatureParams{}, fmt.Errorf("signature parameter %q is not quoted", name)
		}
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return SignatureParams{}, fmt.Errorf("signature parameter %q is not terminated", name)
		}
		value := s[1 : 1+end]
		s = strings.TrimSpace(s[end+2:])
		if s != "" {
			if s[0] != ',' {
				return SignatureParams{}, errors.New("signature parameters must be separated by commas")
			}
			s = strings.TrimSpace(s[1:])
		}
		if seen[name] {
			return SignatureParams{}, fmt.Errorf("signature parameter %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "keyid":
			p.KeyID = value
		case "algorithm":
			p.Algorithm = strings.ToLower(value)
		case "headers":
			p.Headers = strings.Fields(strings.ToLower(value))
		case "signature":
			p.Signature = value
		}
	}
	if p.KeyID == "" {
		return SignatureParams{}, errors.New("signature has no keyId")
	}
	if p.Signature == "" {
		return SignatureParams{}, errors.New("signature has no signature value")
	}
	if !seen["headers"] {
		p.Headers = []string{"date"}
	}
	return p, nil
}

// Covers reports whether all names are among the signed headers.
func (p SignatureParams) Covers(names ...string) bool {
	for _, n := range names {
		found := false
		for _, h := range p.Headers {
			if h == n {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
