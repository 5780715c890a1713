package federation

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ErrMisleadingUsername means a remote preferredUsername could make one
// handle look like another: it holds "@", a space, a control character, or
// a formatting character (bidirectional overrides and isolates, zero-width
// joiners), or is not valid UTF-8 or over 255 bytes.
var ErrMisleadingUsername = errors.New("preferredUsername could mislead")

// CheckUsername refuses a remote preferredUsername that could mislead when
// shown as @name@host. An empty name is allowed (the handle then falls back
// to the actor's IRI wherever it is shown).
func CheckUsername(name string) error {
	if len(name) > 255 || !utf8.ValidString(name) {
		return fmt.Errorf("%w: not valid UTF-8 of at most 255 bytes", ErrMisleadingUsername)
	}
	for _, r := range name {
		switch {
		case r == '@':
			return fmt.Errorf("%w: %q holds @", ErrMisleadingUsername, name)
		case unicode.IsSpace(r), unicode.IsControl(r):
			return fmt.Errorf("%w: %q holds a space or control character", ErrMisleadingUsername, name)
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Bidi_Control, r), r == unicode.ReplacementChar:
			return fmt.Errorf("%w: %q holds a formatting character (U+%04X)", ErrMisleadingUsername, name, r)
		}
	}
	return nil
}
