package inbox

import (
	"encoding/json"
	"errors"
	"fmt"

	vocab "github.com/go-ap/activitypub"
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
// IRI or an object with an id. Anything that is not a JSON object with those
// three is ErrMalformed.
func ParseEnvelope(body []byte) (Envelope, error) {
	var raw struct {
		ID    string          `json:"id"`
		Type  json.RawMessage `json:"type"`
		Actor json.RawMessage `json:"actor"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	e := Envelope{ID: raw.ID}
	if e.ID == "" {
		return Envelope{}, fmt.Errorf("%w: no id", ErrMalformed)
	}
	if err := json.Unmarshal(raw.Type, &e.Type); err != nil || e.Type == "" {
		var types []string
		if json.Unmarshal(raw.Type, &types) != nil || len(types) == 0 || types[0] == "" {
			return Envelope{}, fmt.Errorf("%w: type must be a string", ErrMalformed)
		}
		e.Type = types[0]
	}
	if len(raw.Actor) == 0 {
		return Envelope{}, fmt.Errorf("%w: no actor", ErrMalformed)
	}
	if json.Unmarshal(raw.Actor, &e.Actor) != nil {
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw.Actor, &obj) != nil {
			return Envelope{}, fmt.Errorf("%w: actor must be an IRI or an object with an id", ErrMalformed)
		}
		e.Actor = obj.ID
	}
	if e.Actor == "" {
		return Envelope{}, fmt.Errorf("%w: actor has no id", ErrMalformed)
	}
	return e, nil
}

// Known reports whether the activity's type is one of ActivityStreams'
// activity types; others are acknowledged and ignored.
func (e Envelope) Known() bool {
	t := vocab.ActivityVocabularyType(e.Type)
	return vocab.ActivityTypes.Contains(t) || vocab.IntransitiveActivityTypes.Contains(t)
}
