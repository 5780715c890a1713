package federation_test

import (
	"errors"
	"testing"

	"github.com/colearn/colearn/federation"
)

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want error // nil: accepted
	}{
		{"object", `{"id":"https://a.example/1","type":"Note","tag":[{"type":"Hashtag"},{"type":"Mention"}]}`, nil},
		{"same name in sibling objects", `{"a":{"id":1},"b":{"id":2}}`, nil},
		{"same name at two depths", `{"id":"x","object":{"id":"y"}}`, nil},
		{"duplicate at top", `{"id":"https://a.example/1","id":"https://b.example/1"}`, federation.ErrDuplicateKey},
		{"duplicate nested", `{"object":{"id":"a","attributedTo":"x","attributedTo":"y"}}`, federation.ErrDuplicateKey},
		{"duplicate in array member", `{"tag":[{"href":"a"},{"href":"b","href":"c"}]}`, federation.ErrDuplicateKey},
		{"duplicate through escape", `{"id":"a","\u0069d":"b"}`, federation.ErrDuplicateKey},
		{"trailing value", `{"id":"a"} {"id":"b"}`, federation.ErrInvalidJSON},
		{"truncated", `{"id":"a"`, federation.ErrInvalidJSON},
		{"invalid UTF-8", "{\"id\":\"\xff\"}", federation.ErrInvalidJSON},
		{"empty", ``, federation.ErrInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := federation.CheckJSON([]byte(tt.in))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckJSON(%s) = %v", tt.in, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckJSON(%s) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}
