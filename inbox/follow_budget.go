package inbox

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// A course accepts Follows and Joins by itself (it does not approve members
// by hand) from at most AutoAcceptPerHost actors of one remote host within
// AutoAcceptWindow. Beyond that, new requests from that host wait for a
// moderator, like requests to a course that approves by hand: a host that
// mints thousands of actors cannot make the course send thousands of
// Accepts, nor grow its roster without anyone noticing. Members already on
// the roster are not affected.
const (
	AutoAcceptPerHost = 100
	AutoAcceptWindow  = time.Hour
)

// floodedHost reports whether the course courseID has already accepted
// AutoAcceptPerHost members from actorIRI's host within AutoAcceptWindow.
// The count stops at the bound, on the index of accepted members by join
// time, so it costs at most that many index entries.
func floodedHost(ctx context.Context, tx pgx.Tx, courseID int64, actorIRI string) (bool, error) {
	u, err := url.Parse(actorIRI)
	if err != nil || u.Host == "" {
		return false, fmt.Errorf("follow budget of %q: not an actor IRI", actorIRI)
	}
	origin := u.Scheme + "://" + strings.ToLower(u.Host) + "/"
	var n int
	err = tx.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT 1 FROM course_members
			WHERE course_id = $1 AND state = 'accepted' AND joined_at > now() - $2 * interval '1 second'
			  AND starts_with(lower(actor_iri), $3)
			LIMIT $4) AS recent`,
		courseID, int64(AutoAcceptWindow/time.Second), origin, AutoAcceptPerHost).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("follow budget of %s in course %d: %w", origin, courseID, err)
	}
	return n >= AutoAcceptPerHost, nil
}
