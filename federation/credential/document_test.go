package credential

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// documentCorpus has repeated keys where a byte scan could miss them
// (escaped, nested, inside a value a repeat discards, after colons and
// quotes inside strings) and faultless documents that look like them.
var documentCorpus = []string{
	`{"a":1}`,
	` {"a":{"b":[{"c":"d"}]},"e":"f:g"}`,
	`{"a":"x\":y","b":"\\","c":"\\\":"}`,
	`{"a":1,"a":2}`,
	`{"a":1,"\u0061":2}`,
	`{"a":{"b":1,"b":2}}`,
	`{"a":{"b":1,"c":2},"a":{"b":1,"c":2}}`,
	`{"a":[{"x":1},{"y":2,"y":3}]}`,
	`{"k:1":"v:2","k\"3":"v"}`,
	`{"a":1} {"b":2}`,
	`{"a":1}x`,
	`[{"a":1}]`,
	`"a:b"`,
	`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
	`{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
	`{"a":"\\u0061","\\u0061":1}`,
	`{}`,
	``,
}

// parseQuickly decides as the token walk does: what it accepts the walk
// accepts, decoded the same, and every repeated key is refused.
func TestParseQuicklyAgreesWithTheWalk(t *testing.T) {
	t.Parallel()
	for _, s := range documentCorpus {
		agreeOnDocument(t, []byte(s))
	}
	if _, err := ParseDocument([]byte(`{"a":{"b":1,"\u0062":2}}`)); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("escaped repeated key: %v", err)
	}
}

func agreeOnDocument(t *testing.T, data []byte) {
	t.Helper()
	quick, ok := parseQuickly(data)
	walked, err := parseByWalking(data)
	if ok && (err != nil || !reflect.DeepEqual(quick, walked)) {
		t.Fatalf("%q: parseQuickly accepts %v, the walk says %v", data, quick, err)
	}
	if !ok && err == nil {
		t.Fatalf("%q: the walk accepts, parseQuickly does not", data)
	}
}

// FuzzParseQuickly holds parseQuickly to the token walk.
//
//	go test -fuzz=FuzzParseQuickly ./federation/credential/
func FuzzParseQuickly(f *testing.F) {
	for _, s := range documentCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxDocument {
			return
		}
		agreeOnDocument(t, data)
	})
}
