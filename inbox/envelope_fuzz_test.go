package inbox_test

import (
	"encoding/json"
	"testing"

	vocab "github.com/go-ap/activitypub"

	"github.com/colearn/colearn/inbox"
)

func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://a.example/activities/1","type":"Create","actor":"https://a.example/users/mallory","object":{"id":"https://a.example/notes/1","type":"Note","content":"hi"}}`,
		`{"id":"https://a.example/1","type":["Like","Wibble"],"actor":{"id":"https://a.example/u","type":"Person"},"object":"https://b.example/n"}`,
		`{"id":"https://a.example/1","type":"Wibble","actor":"https://a.example/u"}`,
		`{"id":"https://a.example/1","type":"Follow","actor":["https://a.example/u"]}`,
		`{"id":"https://a.example/1","type":"Undo","actor":"https://a.example/u","object":{"type":"Follow","actor":"https://a.example/u","object":"https://b.example/c"}}`,
		`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","id":"https://victim.example/1"}`,
		`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","actor":"https://victim.example/u"}`,
		`{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u","object":{"id":"n","attributedTo":"a","attributedTo":"b"}}`,
		`{"id":"https://a.example/1","type":"Follow","\u0074ype":"Delete","actor":"https://a.example/u"}`,
		`{"id":"x","type":"","actor":"y"}`,
		`{"id":"x","type":[],"actor":"y"}`,
		`{"id":"x","type":"Create","actor":null}`,
		`{"id":1}`,
		`{"type":"Create","actor":"y"}`,
		`[]`,
		`null`,
		`{`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// The vocabulary library sees the same bytes the inbox stores.
		vocab.UnmarshalJSON(body)
		e, err := inbox.ParseEnvelope(body)
		if err != nil {
			return
		}
		if e.ID == "" || e.Type == "" || e.Actor == "" {
			t.Fatalf("accepted %q as %+v", body, e)
		}
		// One parse decides: encoding/json, which the processor uses for
		// the raw members and which keeps the last of duplicate keys, reads
		// the same id and type.
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if raw["id"] != e.ID {
			t.Fatalf("envelope id %q, encoding/json %v", e.ID, raw["id"])
		}
		if s, ok := raw["type"].(string); ok && s != e.Type {
			t.Fatalf("envelope type %q, encoding/json %v", e.Type, raw["type"])
		}
		e.Known()
	})
}
