package courses

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MarkDone records (done true) or clears that actorIRI finished a live
// module. Only accepted members of the module's course may; others get
// ErrForbidden, a retired module ErrRetired.
func (s *Store) MarkDone(ctx context.Context, q Querier, courseID, moduleID int64, actorIRI string, done bool) error {
	m, err := s.ModuleOf(ctx, q, courseID, moduleID)
	if err != nil {
		return err
	}
	if m.Retired {
		return fmt.Errorf("mark module %d done: %w", moduleID, ErrRetired)
	}
	mem, err := s.MemberOf(ctx, q, courseID, actorIRI)
	if err != nil || mem.State != StateAccepted {
		return fmt.Errorf("mark module %d done by %s: %w", moduleID, actorIRI, ErrForbidden)
	}
	if done {
		_, err = q.Exec(ctx, `INSERT INTO module_progress (module_id, actor_iri) VALUES ($1, $2) ON CONFLICT DO NOTHING`, moduleID, actorIRI)
	} else {
		_, err = q.Exec(ctx, `DELETE FROM module_progress WHERE module_id = $1 AND actor_iri = $2`, moduleID, actorIRI)
	}
	if err != nil {
		return fmt.Errorf("mark module %d done by %s: %w", moduleID, actorIRI, err)
	}
	return nil
}

// Progress is how far a learner is through a course's live modules.
type Progress struct {
	Done  int
	Total int
	// DoneModules holds the ids of the live modules marked done.
	DoneModules map[int64]bool
}

// Percent is Done as a whole percentage of Total (0 for an empty syllabus).
func (p Progress) Percent() int {
	if p.Total == 0 {
		return 0
	}
	return p.Done * 100 / p.Total
}

// ProgressOf returns actorIRI's progress through course courseID.
func (s *Store) ProgressOf(ctx context.Context, q Querier, courseID int64, actorIRI string) (Progress, error) {
	p := Progress{DoneModules: map[int64]bool{}}
	if err := q.QueryRow(ctx, `SELECT count(*) FROM modules WHERE course_id = $1 AND NOT retired`, courseID).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("progress in course %d: %w", courseID, err)
	}
	rows, err := q.Query(ctx, `SELECT p.module_id FROM module_progress p JOIN modules m ON m.id = p.module_id
		WHERE m.course_id = $1 AND NOT m.retired AND p.actor_iri = $2`, courseID, actorIRI)
	if err != nil {
		return p, fmt.Errorf("progress in course %d: %w", courseID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return p, fmt.Errorf("progress in course %d: %w", courseID, err)
	}
	for _, id := range ids {
		p.DoneModules[id] = true
	}
	p.Done = len(ids)
	return p, nil
}

// MemberProgress is one member's line in a facilitator's summary.
type MemberProgress struct {
	Member
	Done     int
	Total    int
	LastDone time.Time // zero when nothing is done
}

// ProgressSummary lists every accepted member of a course with how many
// live modules they marked done. Only its owner and moderators (the
// facilitators) may see it; others get ErrForbidden.
func (s *Store) ProgressSummary(ctx context.Context, q Querier, courseID int64, by string) ([]MemberProgress, error) {
	if ok, err := canModerate(ctx, q, courseID, by); err != nil || !ok {
		return nil, forbidden(err, "see the progress in course", fmt.Sprint(courseID), by)
	}
	var total int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM modules WHERE course_id = $1 AND NOT retired`, courseID).Scan(&total); err != nil {
		return nil, fmt.Errorf("progress summary of course %d: %w", courseID, err)
	}
	rows, err := q.Query(ctx, `SELECT cm.course_id, cm.actor_iri, coalesce(cm.user_id, 0), cm.name, cm.handle, cm.inbox, cm.shared_inbox,
			cm.role, cm.state, cm.via, cm.request_id, cm.joined_at, count(p.module_id), coalesce(max(p.done_at), 'epoch'::timestamptz)
		FROM course_members cm
		LEFT JOIN modules m ON m.course_id = cm.course_id AND NOT m.retired
		LEFT JOIN module_progress p ON p.module_id = m.id AND p.actor_iri = cm.actor_iri
		WHERE cm.course_id = $1 AND cm.state = 'accepted'
		GROUP BY cm.course_id, cm.actor_iri
		ORDER BY CASE cm.role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, cm.joined_at`, courseID)
	if err != nil {
		return nil, fmt.Errorf("progress summary of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MemberProgress, error) {
		var mp MemberProgress
		m := &mp.Member
		err := r.Scan(&m.CourseID, &m.ActorIRI, &m.UserID, &m.Name, &m.Handle, &m.Inbox, &m.SharedInbox,
			&m.Role, &m.State, &m.Via, &m.RequestID, &m.JoinedAt, &mp.Done, &mp.LastDone)
		mp.Total = total
		if mp.LastDone.Equal(time.Unix(0, 0)) {
			mp.LastDone = time.Time{}
		}
		return mp, err
	})
}
