package federation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrDomainBlocked means a request came from, or would go to, a server the
// instance's admins blocked. Inbox and signed-GET handlers answer it with
// 403 (Mastodon does not retry 403); the client refuses to fetch from such
// a server before any connection is made.
var ErrDomainBlocked = errors.New("domain blocked by this instance")

// DomainBlockedFunc reports whether a host (host[:port], as in ids) is
// covered by one of the instance's domain blocks. courses.DomainPolicy's
// HostBlocked is one. It is consulted on every request, so it must answer
// from memory.
type DomainBlockedFunc func(ctx context.Context, host string) bool

// blockedIRI returns an error wrapping ErrDomainBlocked when the host of
// iri is blocked by f (a nil f blocks nothing).
func blockedIRI(ctx context.Context, f DomainBlockedFunc, iri string) error {
	if f == nil {
		return nil
	}
	u, err := url.Parse(iri)
	if err != nil || u.Host == "" {
		return nil
	}
	if host := strings.ToLower(u.Host); f(ctx, host) {
		return fmt.Errorf("%s: %w", host, ErrDomainBlocked)
	}
	return nil
}
