// Package plaintext deals with text PostgreSQL never stores: a NUL
// character, or bytes that are not UTF-8. A text column answers either
// with an error (SQLSTATE 22021), which would otherwise reach the user as
// a 500 after the handler has begun its work, or fail the transaction it
// was written in. Requests carrying such text are refused at the edge
// with a 400 that names the part of the request (Handler, CheckValues);
// text the server writes itself that quotes a peer, such as a recorded
// failure's reason, is made storable instead (Storable).
package plaintext

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Valid reports whether s is UTF-8 without a NUL character.
func Valid(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// CheckValues returns an error naming the first key, or the value of a
// key, of v that is not Valid.
func CheckValues(v url.Values) error {
	for k, vs := range v {
		if !Valid(k) {
			return fmt.Errorf("a field name %s", problem)
		}
		for _, s := range vs {
			if !Valid(s) {
				return fmt.Errorf("the field %q %s", k, problem)
			}
		}
	}
	return nil
}

const problem = "holds a NUL character or is not UTF-8"

// Handler answers 400 to a request whose path or query (its keys and
// values) is not Valid once decoded, before next sees it. Form bodies are
// checked where they are read (each handler bounds its own body), with
// CheckValues.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Valid(r.URL.Path) {
			http.Error(w, "the path "+problem, http.StatusBadRequest)
			return
		}
		// What does not parse is dropped by the handlers' own r.URL.Query()
		// as well; what does is checked.
		q, _ := url.ParseQuery(r.URL.RawQuery)
		if err := CheckValues(q); err != nil {
			http.Error(w, "query: "+err.Error(), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Storable returns s as a text column takes it, at most limit bytes long:
// each NUL written out as the six characters \u0000, each invalid byte
// sequence as U+FFFD, and the end cut on a character boundary.
func Storable(s string, limit int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\u0000`), "\uFFFD")
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
