package inbox

import (
	"errors"
	"fmt"
	"unicode/utf8"

	vocab "github.com/go-ap/activitypub"
	"github.com/valyala/fastjson"

	"github.com/colearn/colearn/federation"
)

// Envelope is the part of an incoming activity the inbox checks before it
// stores it; the full body is kept as received.
type Envelope struct {
	ID    string
	Type  string
	Actor string
}

// ErrMalformed wraps every reason an activity cannot be parsed.
var ErrMalformed = errors.New("malformed activity")

// ParseEnvelope reads an activity's id, type and actor. The actor may be an
// IRI or an object with an id; the type may be a string or a list whose
// first entry counts. Anything that is not one JSON object (in valid UTF-8,
// with no object anywhere in it naming a member twice) with those three is
// ErrMalformed: with duplicate keys, the envelope, the processor and go-ap
// could each read a different id, actor or object.
//
// It runs on every inbox request, before the signature check, so it parses
// the body once with fastjson (go-ap's own parser) rather than decoding it
// into structs.
func ParseEnvelope(body []byte) (Envelope, error) {
	if !utf8.Valid(body) {
		return Envelope{}, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	if err := federation.CheckJSON(body); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if v.Type() != fastjson.TypeObject {
		return Envelope{}, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var e Envelope
	if e.ID = stringOf(v.Get("id")); e.ID == "" {
		return Envelope{}, fmt.Errorf("%w: no id", ErrMalformed)
	}
	t := v.Get("type")
	if t != nil && t.Type() == fastjson.TypeArray {
		if items := t.GetArray(); len(items) > 0 {
			t = items[0]
		}
	}
	if e.Type = stringOf(t); e.Type == "" {
		return Envelope{}, fmt.Errorf("%w: type must be a string", ErrMalformed)
	}
	actor := v.Get("actor")
	if actor == nil {
		return Envelope{}, fmt.Errorf("%w: no actor", ErrMalformed)
	}
	switch actor.Type() {
	case fastjson.TypeString:
		e.Actor = stringOf(actor)
	case fastjson.TypeObject:
		e.Actor = stringOf(actor.Get("id"))
	default:
		return Envelope{}, fmt.Errorf("%w: actor must be an IRI or an object with an id", ErrMalformed)
	}
	if e.Actor == "" {
		return Envelope{}, fmt.Errorf("%w: actor has no id", ErrMalformed)
	}
	return e, nil
}

// stringOf returns v's value when it is a JSON string, else "".
func stringOf(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	return string(v.GetStringBytes())
}

// Known reports whether the activity's type is one of ActivityStreams'
// activity types; others are acknowledged and ignored.
func (e Envelope) Known() bool {
	t := vocab.ActivityVocabularyType(e.Type)
	return vocab.ActivityTypes.Contains(t) || vocab.IntransitiveActivityTypes.Contains(t)
}
