package courses

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Report is a complaint about a post or an account, filed by a local user
// or received from another server as a Flag. It waits in the moderation
// queue until an admin or a moderator of its course resolves it.
type Report struct {
	ID          int64
	ReporterIRI string // a local user, or the remote actor that sent the Flag
	TargetIRI   string // the account reported (a post's author)
	PostIRI     string // "" for a report of an account
	CourseIRI   string // the post's course, which moderators see it by ("" if none)
	Comment     string // plain text
	Source      string // "local" or "remote"
	ActivityID  string // the Flag received, or the one sent on
	State       string // "open" or "resolved"
	ResolvedBy  string
	Resolution  string
	CreatedAt   time.Time
	ResolvedAt  time.Time // zero while open
}

// Report states and sources.
const (
	ReportOpen     = "open"
	ReportResolved = "resolved"
	SourceLocal    = "local"
	SourceRemote   = "remote"
)

const reportColumns = `id, reporter_iri, target_iri, post_iri, course_iri, comment, source, activity_id, state,
	resolved_by, resolution, created_at, coalesce(resolved_at, 'epoch'::timestamptz)`

func scanReport(row pgx.Row) (Report, error) {
	var r Report
	err := row.Scan(&r.ID, &r.ReporterIRI, &r.TargetIRI, &r.PostIRI, &r.CourseIRI, &r.Comment, &r.Source, &r.ActivityID,
		&r.State, &r.ResolvedBy, &r.Resolution, &r.CreatedAt, &r.ResolvedAt)
	if r.ResolvedAt.Equal(time.Unix(0, 0)) {
		r.ResolvedAt = time.Time{}
	}
	return r, err
}

// FileReport stores an open report. The comment is reduced to plain text
// and bounded (a *ValidationError past maxReasonLen); a report needs a
// reporter and a target. A remote report repeating one already stored
// (same Flag, target and post) is stored once: created is false.
func (s *Store) FileReport(ctx context.Context, q Querier, r Report) (saved Report, created bool, err error) {
	r.Comment = strings.TrimSpace(s.content.policyText(r.Comment))
	switch {
	case r.ReporterIRI == "" || r.TargetIRI == "":
		return Report{}, false, &ValidationError{Field: "target", Message: "a report names who reports and what"}
	case len(r.Comment) > maxReasonLen:
		return Report{}, false, &ValidationError{Field: "comment", Message: fmt.Sprintf("the comment is longer than %d bytes", maxReasonLen)}
	case r.Source != SourceLocal && r.Source != SourceRemote:
		return Report{}, false, &ValidationError{Field: "source", Message: "a report is local or remote"}
	}
	saved, err = scanReport(q.QueryRow(ctx, `
		INSERT INTO reports (reporter_iri, target_iri, post_iri, course_iri, comment, source, activity_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (activity_id, target_iri, post_iri) WHERE source = 'remote' DO NOTHING
		RETURNING `+reportColumns, r.ReporterIRI, r.TargetIRI, r.PostIRI, r.CourseIRI, r.Comment, r.Source, r.ActivityID))
	if err == pgx.ErrNoRows {
		return Report{}, false, nil
	}
	if err != nil {
		return Report{}, false, fmt.Errorf("file report on %s: %w", r.TargetIRI, err)
	}
	return saved, true, nil
}

// SetReportActivity records the Flag a report was sent on as.
func (s *Store) SetReportActivity(ctx context.Context, q Querier, id int64, activityID string) error {
	_, err := q.Exec(ctx, `UPDATE reports SET activity_id = $2 WHERE id = $1`, id, activityID)
	return err
}

// ReportByID returns a report or ErrNotFound.
func (s *Store) ReportByID(ctx context.Context, q Querier, id int64) (Report, error) {
	r, err := scanReport(q.QueryRow(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = $1`, id))
	if err != nil {
		return Report{}, fmt.Errorf("report %d: %w", id, notFound(err))
	}
	return r, nil
}

// Reports lists reports in state ("" for every state), newest first: all of
// them when courseIRIs is nil (an admin's queue), else only those about
// posts of those courses (a course moderator's queue).
func (s *Store) Reports(ctx context.Context, q Querier, state string, courseIRIs []string, limit int) ([]Report, error) {
	rows, err := q.Query(ctx, `SELECT `+reportColumns+` FROM reports
		WHERE ($1 = '' OR state = $1) AND ($2::text[] IS NULL OR course_iri = ANY ($2))
		ORDER BY id DESC LIMIT $3`, state, courseIRIs, limit)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Report, error) { return scanReport(r) })
}

// ResolveReport closes an open report, by by, with what was done.
// ErrNotFound when there is no such open report.
func (s *Store) ResolveReport(ctx context.Context, q Querier, id int64, by, resolution string) (Report, error) {
	resolution = strings.TrimSpace(resolution)
	if len(resolution) > maxReasonLen {
		return Report{}, &ValidationError{Field: "reason", Message: fmt.Sprintf("the note is longer than %d bytes", maxReasonLen)}
	}
	r, err := scanReport(q.QueryRow(ctx, `UPDATE reports SET state = 'resolved', resolved_by = $2, resolution = $3, resolved_at = now()
		WHERE id = $1 AND state = 'open' RETURNING `+reportColumns, id, by, resolution))
	if err != nil {
		return Report{}, fmt.Errorf("resolve report %d: %w", id, notFound(err))
	}
	return r, nil
}

// ModeratedCourses returns the IRIs (under base's /courses/) of the local
// courses actorIRI owns or moderates.
func (s *Store) ModeratedCourses(ctx context.Context, q Querier, actorIRI, coursesBase string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT $2 || c.slug FROM course_members m JOIN courses c ON c.id = m.course_id
		WHERE m.actor_iri = $1 AND m.state = 'accepted' AND m.role IN ('owner', 'moderator') ORDER BY c.slug`, actorIRI, coursesBase)
	if err != nil {
		return nil, fmt.Errorf("courses moderated by %s: %w", actorIRI, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
