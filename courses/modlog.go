package courses

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ModAction is one entry of the moderation log: who did what to what, when
// and why. Every moderation action is logged in the transaction that does
// it, so the log cannot miss one nor record one that was rolled back.
type ModAction struct {
	ID        int64
	Actor     string // a local user's name, or "cli"
	Action    string // one of the Mod* constants
	Target    string // a host, a post IRI, an actor IRI or a report number
	CourseIRI string
	ReportID  int64 // 0 when not taken from a report
	Reason    string
	CreatedAt time.Time
}

// Moderation actions.
const (
	ModDomainBlock   = "domain.block"
	ModDomainUnblock = "domain.unblock"
	ModPostRemove    = "post.remove"
	ModMemberBlock   = "member.block"
	ModReportResolve = "report.resolve"
)

// LogModeration records a; Actor, Action and Target are required.
func (s *Store) LogModeration(ctx context.Context, q Querier, a ModAction) error {
	if a.Actor == "" || a.Action == "" || a.Target == "" {
		return fmt.Errorf("log moderation %q on %q by %q: who, what and on what are required", a.Action, a.Target, a.Actor)
	}
	var report *int64
	if a.ReportID != 0 {
		report = &a.ReportID
	}
	_, err := q.Exec(ctx, `INSERT INTO moderation_log (actor, action, target, course_iri, report_id, reason)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.Actor, a.Action, a.Target, a.CourseIRI, report, a.Reason)
	if err != nil {
		return fmt.Errorf("log moderation %s on %s: %w", a.Action, a.Target, err)
	}
	return nil
}

// ModerationLog returns the latest limit entries, newest first.
func (s *Store) ModerationLog(ctx context.Context, q Querier, limit int) ([]ModAction, error) {
	rows, err := q.Query(ctx, `SELECT id, actor, action, target, course_iri, coalesce(report_id, 0), reason, created_at
		FROM moderation_log ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("moderation log: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ModAction])
}
