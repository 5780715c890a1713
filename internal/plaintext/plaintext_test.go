package plaintext

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStorable(t *testing.T) {
	for _, c := range []struct {
		in    string
		limit int
		want  string
	}{
		{"plain", 10, "plain"},
		{"a\x00b", 10, `a\u0000b`},
		{"a\xffb", 10, "a\uFFFDb"},
		{"aé", 2, "a"}, // é is two bytes: cut before it, not inside
		{strings.Repeat("x", 5), 3, "xxx"},
	} {
		got := Storable(c.in, c.limit)
		if got != c.want || !Valid(got) || !utf8.ValidString(got) {
			t.Errorf("Storable(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
}

func TestCheckValues(t *testing.T) {
	if err := CheckValues(url.Values{"q": {"go", "rust"}}); err != nil {
		t.Errorf("plain values: %v", err)
	}
	if err := CheckValues(url.Values{"q": {"a\x00b"}}); err == nil || !strings.Contains(err.Error(), `"q"`) {
		t.Errorf("NUL value: %v, want an error naming q", err)
	}
	if err := CheckValues(url.Values{"\xff": {"x"}}); err == nil {
		t.Error("invalid key: no error")
	}
}
