package courses

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits on account input.
const (
	MinPasswordLen    = 10   // characters
	MaxPasswordLen    = 1024 // bytes; argon2 hashes anything, but not for free
	MaxDisplayNameLen = 100  // characters
	MaxSummaryLen     = 2000 // characters
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9_]{1,30}$`)

// reservedNames are handles that would collide with routes or confuse people.
var reservedNames = map[string]bool{
	"actor": true, "inbox": true, "outbox": true, "users": true, "courses": true,
	"static": true, "api": true, "nodeinfo": true, "instance": true,
	"well-known": true, "well_known": true, "wellknown": true, "admin": true, "root": true,
	"signin": true, "signup": true, "signout": true, "settings": true,
	"about": true, "help": true, "support": true, "colearn": true,
	"followers": true, "following": true, "circles": true, "badges": true,
	"system": true, "moderator": true, "postmaster": true, "webmaster": true,
	"new": true, // /courses/new is the form that creates a course
}

func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// IsReservedName reports whether name (already lower-cased) may not be used
// as a handle by users or courses.
func IsReservedName(name string) bool { return reservedNames[name] }

func validateNewUser(nu NewUser) error {
	switch {
	case !usernamePattern.MatchString(nu.Username):
		return &ValidationError{"username", "use 1 to 30 lowercase letters, digits or underscores"}
	case reservedNames[nu.Username]:
		return &ValidationError{"username", "this name is reserved"}
	case utf8.RuneCountInString(nu.Password) < MinPasswordLen:
		return &ValidationError{"password", "use at least 10 characters"}
	case len(nu.Password) > MaxPasswordLen:
		return &ValidationError{"password", "too long"}
	}
	return validateProfile(nu.DisplayName, "")
}

func validateProfile(displayName, summary string) error {
	switch {
	case !utf8.ValidString(displayName) || utf8.RuneCountInString(displayName) > MaxDisplayNameLen:
		return &ValidationError{"display_name", "use at most 100 characters"}
	case !utf8.ValidString(summary) || utf8.RuneCountInString(summary) > MaxSummaryLen:
		return &ValidationError{"summary", "use at most 2000 characters"}
	}
	return nil
}
