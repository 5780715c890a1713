package inbox

import "testing"

// TestIsPublicReadsNamesExactly: addressing is read as go-ap reads the
// rest of the activity, so a member whose name differs only in case ("TO")
// counts for nothing, and the compact forms of Public count.
func TestIsPublicReadsNamesExactly(t *testing.T) {
	tests := map[string]bool{
		`{"to":["https://www.w3.org/ns/activitystreams#Public"]}`: true,
		`{"cc":"as:Public"}`:                                         true,
		`{"to":[{"id":"Public"}]}`:                                   true,
		`{"to":["https://c.example/courses/go"]}`:                    false,
		`{"to":["https://c.example/courses/go"],"TO":["as:Public"]}`: false,
		`{"TO":["https://www.w3.org/ns/activitystreams#Public"]}`:    false,
		`{"Cc":"as:Public","to":"https://c.example/courses/go"}`:     false,
		`{"to":["https://c.example/courses/go"],"to":["as:Public"]}`: false, // duplicates: refused
		`{"to":[["https://www.w3.org/ns/activitystreams#Public"]]}`:  false,
		`not json`: false,
	}
	for doc, want := range tests {
		if got := isPublic([]byte(doc)); got != want {
			t.Errorf("isPublic(%s) = %v, want %v", doc, got, want)
		}
	}
}
