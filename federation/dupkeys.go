package federation

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// ErrDuplicateKey means a JSON object names one member twice. Parsers
// disagree on which copy counts (encoding/json keeps the last, fastjson and
// go-ap the first), so a document with one would let a check read one value
// and the store another: such a document is refused outright.
var ErrDuplicateKey = errors.New("duplicate key in a JSON object")

// ErrInvalidJSON means a document is not exactly one JSON value in valid
// UTF-8.
var ErrInvalidJSON = errors.New("invalid JSON")

// CheckJSON reads data as a stream of JSON tokens and refuses it unless it
// is exactly one JSON value, in valid UTF-8, in which no object names a
// member twice (names compared after unescaping, so "id" and "\u0069d" are
// the same name). Every remote document goes through it before anything is
// decided from it. The error wraps ErrDuplicateKey or ErrInvalidJSON and
// says where in the document the fault is (a JSON pointer), never more.
//
// The token reader is go-json-experiment's jsontext, the package that
// became encoding/json/jsontext: Go 1.26 ships that only behind
// GOEXPERIMENT=jsonv2. Like RFC 7493 (I-JSON), it rejects duplicate names
// and invalid UTF-8 by default.
func CheckJSON(data []byte) error {
	d := jsontext.NewDecoder(bytes.NewReader(data))
	if _, err := d.ReadValue(); err != nil {
		return jsonError(err)
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return fmt.Errorf("%w: data after the first value", ErrInvalidJSON)
	}
	return nil
}

func jsonError(err error) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		if errors.Is(err, jsontext.ErrDuplicateName) {
			return fmt.Errorf("%w at %q", ErrDuplicateKey, string(se.JSONPointer))
		}
		where := string(se.JSONPointer)
		if where == "" {
			where = "/"
		}
		return fmt.Errorf("%w near %q (byte %d)", ErrInvalidJSON, where, se.ByteOffset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: document ends early", ErrInvalidJSON)
	}
	return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
}
