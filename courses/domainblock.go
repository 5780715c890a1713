package courses

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DomainBlock keeps a remote server out of the instance: its requests are
// refused with 403, nothing is fetched from it, nothing but the Reject of
// its members' Follow or Join is delivered to it, and its members leave
// every course.
type DomainBlock struct {
	Host      string // lower-case host[:port]
	Reason    string
	CreatedBy string // the admin's username, or "cli"
	CreatedAt time.Time
}

// maxReasonLen bounds the reason of a block or the comment of a report, in
// bytes.
const maxReasonLen = 2000

var hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$`)

// NormalizeHost turns what an admin typed (a host, host:port, or a URL of
// the server) into the lower-case host[:port] a block names. Anything else
// is a *ValidationError.
func NormalizeHost(s string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	if strings.Contains(h, "://") {
		u, err := url.Parse(h)
		if err != nil || u.Host == "" {
			return "", &ValidationError{Field: "host", Message: "not a host name or server address"}
		}
		h = u.Host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "@"), ".")
	if len(h) > 253 || !hostPattern.MatchString(h) {
		return "", &ValidationError{Field: "host", Message: fmt.Sprintf("%q is not a host name (like example.org or example.org:8443)", s)}
	}
	return h, nil
}

// HostCovered reports whether the block entry blocked covers host (both
// lower-case host[:port]): the same host and port; or, for an entry without
// a port, the host on any port and every subdomain of it.
func HostCovered(blocked, host string) bool {
	if blocked == host {
		return true
	}
	if strings.Contains(blocked, ":") {
		return false
	}
	name := host
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name = host[:i]
	}
	return name == blocked || strings.HasSuffix(name, "."+blocked)
}

// BlockDomain records a block of host (normalised with NormalizeHost) by
// by, with a reason. Blocking a blocked host again updates the reason;
// created reports whether the block is new.
func (s *Store) BlockDomain(ctx context.Context, q Querier, host, reason, by string) (b DomainBlock, created bool, err error) {
	if host, err = NormalizeHost(host); err != nil {
		return DomainBlock{}, false, err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > maxReasonLen {
		return DomainBlock{}, false, &ValidationError{Field: "reason", Message: fmt.Sprintf("the reason is longer than %d bytes", maxReasonLen)}
	}
	err = q.QueryRow(ctx, `
		INSERT INTO domain_blocks (host, reason, created_by) VALUES ($1, $2, $3)
		ON CONFLICT (host) DO UPDATE SET reason = excluded.reason
		RETURNING host, reason, created_by, created_at, (xmax = 0)`, host, reason, by).
		Scan(&b.Host, &b.Reason, &b.CreatedBy, &b.CreatedAt, &created)
	if err != nil {
		return DomainBlock{}, false, fmt.Errorf("block domain %s: %w", host, err)
	}
	return b, created, nil
}

// UnblockDomain lifts the block of host; ErrNotFound when there is none.
func (s *Store) UnblockDomain(ctx context.Context, q Querier, host string) error {
	host, err := NormalizeHost(host)
	if err != nil {
		return err
	}
	tag, err := q.Exec(ctx, `DELETE FROM domain_blocks WHERE host = $1`, host)
	if err != nil {
		return fmt.Errorf("unblock domain %s: %w", host, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("unblock domain %s: %w", host, ErrNotFound)
	}
	return nil
}

// DomainBlocks lists the blocks, newest first.
func (s *Store) DomainBlocks(ctx context.Context, q Querier) ([]DomainBlock, error) {
	rows, err := q.Query(ctx, `SELECT host, reason, created_by, created_at FROM domain_blocks ORDER BY created_at DESC, host`)
	if err != nil {
		return nil, fmt.Errorf("domain blocks: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[DomainBlock])
}

// RemoveDomainMembers drops every remote member whose actor is on a host
// the block entry covers from every local course (owners excepted, blocked
// members kept blocked) and returns the memberships it ended, so that their
// Follow or Join can be rejected.
func (s *Store) RemoveDomainMembers(ctx context.Context, q Querier, blocked string) ([]Member, error) {
	// The LIKE narrows the rows down (a host name has no % or _); the
	// exact rule is HostCovered.
	name, _, _ := strings.Cut(blocked, ":")
	rows, err := q.Query(ctx, `SELECT `+memberColumns+` FROM course_members
		WHERE user_id IS NULL AND role <> 'owner' AND state <> 'blocked' AND lower(actor_iri) LIKE '%' || $1 || '%'`, name)
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", blocked, err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) { return scanMember(r) })
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", blocked, err)
	}
	var gone []Member
	for _, m := range all {
		u, err := url.Parse(m.ActorIRI)
		if err != nil || !HostCovered(blocked, strings.ToLower(u.Host)) {
			continue
		}
		if _, err := q.Exec(ctx, `DELETE FROM course_members WHERE course_id = $1 AND actor_iri = $2`, m.CourseID, m.ActorIRI); err != nil {
			return nil, fmt.Errorf("remove %s: %w", m.ActorIRI, err)
		}
		gone = append(gone, m)
	}
	return gone, nil
}
