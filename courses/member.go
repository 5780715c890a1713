package courses

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MemberInboxes returns the distinct inboxes that reach every accepted remote
// member of a local course, preferring each server's shared inbox, so that a
// post to ten thousand learners on a hundred servers is a hundred deliveries.
// It runs in q (a transaction or the pool).
func MemberInboxes(ctx context.Context, q Querier, courseID int64) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END
		FROM course_members
		WHERE course_id = $1 AND state = 'accepted' AND user_id IS NULL
		  AND (shared_inbox <> '' OR inbox <> '')`, courseID)
	if err != nil {
		return nil, fmt.Errorf("member inboxes of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Member is an actor's place in a local course.
type Member struct {
	CourseID    int64
	ActorIRI    string
	UserID      int64 // 0 for remote members
	Name        string
	Handle      string // @name@host, or the local username
	Inbox       string
	SharedInbox string
	Role        string // owner, moderator or learner
	State       string // pending, accepted or blocked
	Via         string // local, follow or join
	RequestID   string // the Follow or Join that asked
	JoinedAt    time.Time
	// MovedTo is the account a remote member moved to (Move), when Roster
	// found one (remote_actor.go).
	MovedTo string
}

// Roles and states of a membership.
const (
	RoleOwner     = "owner"
	RoleModerator = "moderator"
	RoleLearner   = "learner"

	StatePending  = "pending"
	StateAccepted = "accepted"
	StateBlocked  = "blocked"
)

// ErrBlocked means the actor was blocked from the course.
var ErrBlocked = errors.New("blocked from this course")

const memberColumns = `course_id, actor_iri, coalesce(user_id, 0), name, handle, inbox, shared_inbox, role, state, via, request_id, joined_at`

func scanMember(row pgx.Row) (Member, error) {
	var m Member
	err := row.Scan(&m.CourseID, &m.ActorIRI, &m.UserID, &m.Name, &m.Handle, &m.Inbox, &m.SharedInbox,
		&m.Role, &m.State, &m.Via, &m.RequestID, &m.JoinedAt)
	return m, err
}

// Enroll applies the enrollment rule to a request (a Follow, a Join or a
// local button press): a blocked actor is refused with ErrBlocked; a course
// that approves manually holds remote requests as pending; everyone else is
// accepted. Asking again is harmless and refreshes the inboxes and the
// request id, which the Accept must name.
func (s *Store) Enroll(ctx context.Context, q Querier, c Course, req Member) (Member, error) {
	if cur, err := s.MemberOf(ctx, q, c.ID, req.ActorIRI); err == nil {
		if cur.State == StateBlocked {
			return cur, fmt.Errorf("enroll %s in %s: %w", req.ActorIRI, c.Slug, ErrBlocked)
		}
		req.State = cur.State
	} else if !errors.Is(err, ErrNotFound) {
		return Member{}, err
	} else {
		req.State = StateAccepted
		if c.ManuallyApproves && req.UserID == 0 {
			req.State = StatePending
		}
	}
	var uid *int64
	if req.UserID != 0 {
		uid = &req.UserID
	}
	m, err := scanMember(q.QueryRow(ctx, `
		INSERT INTO course_members (course_id, actor_iri, user_id, name, handle, inbox, shared_inbox, role, state, via, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'learner', $8, $9, $10)
		ON CONFLICT (course_id, actor_iri) DO UPDATE SET name = $4, handle = $5, inbox = $6, shared_inbox = $7,
			via = CASE WHEN course_members.via = 'local' THEN 'local' ELSE $9 END, request_id = $10
		RETURNING `+memberColumns,
		c.ID, req.ActorIRI, uid, req.Name, req.Handle, req.Inbox, req.SharedInbox, req.State, req.Via, req.RequestID))
	if err != nil {
		return Member{}, fmt.Errorf("enroll %s in %s: %w", req.ActorIRI, c.Slug, err)
	}
	if err := s.courseChanged(ctx, q, c.ID); err != nil {
		return Member{}, err
	}
	return m, nil
}

// MemberOf returns actorIRI's membership of course courseID, or ErrNotFound.
func (s *Store) MemberOf(ctx context.Context, q Querier, courseID int64, actorIRI string) (Member, error) {
	m, err := scanMember(q.QueryRow(ctx, `SELECT `+memberColumns+` FROM course_members WHERE course_id = $1 AND actor_iri = $2`, courseID, actorIRI))
	if err != nil {
		return Member{}, fmt.Errorf("member %s of course %d: %w", actorIRI, courseID, notFound(err))
	}
	return m, nil
}

// Members lists a course's members, owners and moderators first.
func (s *Store) Members(ctx context.Context, q Querier, courseID int64) ([]Member, error) {
	rows, err := q.Query(ctx, `SELECT `+memberColumns+` FROM course_members WHERE course_id = $1
		ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, joined_at`, courseID)
	if err != nil {
		return nil, fmt.Errorf("members of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) { return scanMember(r) })
}

// MemberCount counts the accepted members of a course.
func (s *Store) MemberCount(ctx context.Context, q Querier, courseID int64) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM course_members WHERE course_id = $1 AND state = 'accepted'`, courseID).Scan(&n)
	return n, err
}

// Approve accepts a pending member; only a moderator may.
func (s *Store) Approve(ctx context.Context, q Querier, courseID int64, actorIRI, by string) (Member, error) {
	if ok, err := canModerate(ctx, q, courseID, by); err != nil || !ok {
		return Member{}, forbidden(err, "approve", actorIRI, by)
	}
	m, err := scanMember(q.QueryRow(ctx, `UPDATE course_members SET state = 'accepted'
		WHERE course_id = $1 AND actor_iri = $2 AND state = 'pending' RETURNING `+memberColumns, courseID, actorIRI))
	if err != nil {
		return Member{}, fmt.Errorf("approve %s: %w", actorIRI, notFound(err))
	}
	if err := s.courseChanged(ctx, q, courseID); err != nil {
		return Member{}, err
	}
	return m, nil
}

// Unenroll removes actorIRI from a course (Undo(Follow), Leave, or the
// learner's own button) and returns the membership it ended. The owner
// cannot leave; a blocked actor stays blocked.
func (s *Store) Unenroll(ctx context.Context, q Querier, courseID int64, actorIRI string) (Member, error) {
	m, err := scanMember(q.QueryRow(ctx, `DELETE FROM course_members
		WHERE course_id = $1 AND actor_iri = $2 AND role <> 'owner' AND state <> 'blocked' RETURNING `+memberColumns, courseID, actorIRI))
	if err != nil {
		return Member{}, fmt.Errorf("unenroll %s: %w", actorIRI, notFound(err))
	}
	if err := s.courseChanged(ctx, q, courseID); err != nil {
		return Member{}, err
	}
	return m, nil
}

// Block removes a member and keeps them out; only a moderator may. Nobody
// may block the owner, and only the owner may block a moderator: a
// moderator trying either gets ErrForbidden and nothing changes.
func (s *Store) Block(ctx context.Context, q Querier, courseID int64, actorIRI, by string) error {
	if ok, err := canModerate(ctx, q, courseID, by); err != nil || !ok {
		return forbidden(err, "block", actorIRI, by)
	}
	if err := mayModerate(ctx, q, courseID, actorIRI, by); err != nil {
		return fmt.Errorf("block: %w", err)
	}
	_, err := q.Exec(ctx, `
		INSERT INTO course_members (course_id, actor_iri, state, via) VALUES ($1, $2, 'blocked', 'follow')
		ON CONFLICT (course_id, actor_iri) DO UPDATE SET state = 'blocked' WHERE course_members.role <> 'owner'`, courseID, actorIRI)
	if err != nil {
		return fmt.Errorf("block %s: %w", actorIRI, err)
	}
	return s.courseChanged(ctx, q, courseID)
}

// SetRole makes a member a moderator or a learner; only the owner may.
func (s *Store) SetRole(ctx context.Context, q Querier, courseID int64, actorIRI, role, by string) error {
	if role != RoleModerator && role != RoleLearner {
		return &ValidationError{Field: "role", Message: "role must be moderator or learner"}
	}
	var ownerIRI string
	if err := q.QueryRow(ctx, `SELECT actor_iri FROM course_members WHERE course_id = $1 AND role = 'owner'`, courseID).Scan(&ownerIRI); err != nil {
		return fmt.Errorf("set role: %w", notFound(err))
	}
	if ownerIRI != by {
		return forbidden(nil, "set the role of", actorIRI, by)
	}
	tag, err := q.Exec(ctx, `UPDATE course_members SET role = $3 WHERE course_id = $1 AND actor_iri = $2 AND role <> 'owner' AND state = 'accepted'`, courseID, actorIRI, role)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return err
	}
	return s.courseChanged(ctx, q, courseID)
}

// RemoveGone drops an actor whose server answered 410 Gone from every
// roster, ends its follows of local users (user_follower.go) and its
// co-hosting of local courses (course_cohost.go); inbox may be the actor
// IRI or its personal inbox (or, for a co-host, its shared inbox).
func (s *Store) RemoveGone(ctx context.Context, q Querier, iriOrInbox string) (int64, error) {
	rows, err := q.Query(ctx, `DELETE FROM course_members WHERE user_id IS NULL AND role <> 'owner' AND (actor_iri = $1 OR inbox = $1)
		RETURNING course_id`, iriOrInbox)
	if err != nil {
		return 0, fmt.Errorf("remove gone %s: %w", iriOrInbox, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("remove gone %s: %w", iriOrInbox, err)
	}
	users, err := s.removeGoneFollower(ctx, q, iriOrInbox)
	if err != nil {
		return 0, err
	}
	if _, err := s.removeGoneCohosts(ctx, q, iriOrInbox); err != nil { // course_cohost.go
		return 0, err
	}
	if err := s.Changed(ctx, q, actorScopes(nil, users)...); err != nil {
		return 0, err
	}
	scopes := []Scope{CataloguesScope}
	seen := map[int64]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			scopes = append(scopes, CourseScope(id))
		}
	}
	if len(ids) > 0 {
		if err := s.Changed(ctx, q, scopes...); err != nil {
			return 0, err
		}
	}
	return int64(len(ids)), nil
}

// CanModerate reports whether actorIRI is the owner or a moderator.
func (s *Store) CanModerate(ctx context.Context, q Querier, courseID int64, actorIRI string) (bool, error) {
	return canModerate(ctx, q, courseID, actorIRI)
}

func canModerate(ctx context.Context, q Querier, courseID int64, actorIRI string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM course_members WHERE course_id = $1 AND actor_iri = $2
		AND state = 'accepted' AND role IN ('owner', 'moderator'))`, courseID, actorIRI).Scan(&ok)
	return ok, err
}

// CanPost is the discussion rule: accepted members may post, and anyone who
// is not blocked may post to a course with open discussion.
func (s *Store) CanPost(ctx context.Context, q Querier, c Course, actorIRI string) (bool, error) {
	m, err := s.MemberOf(ctx, q, c.ID, actorIRI)
	switch {
	case err == nil:
		return m.State == StateAccepted || (c.OpenDiscussion && m.State != StateBlocked), nil
	case errors.Is(err, ErrNotFound):
		return c.OpenDiscussion, nil
	default:
		return false, err
	}
}

func forbidden(err error, what, actorIRI, by string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%s %s by %s: %w", what, actorIRI, by, ErrForbidden)
}

// CourseOfRequest finds the course that actorIRI asked to join with the
// Follow or Join requestID.
func (s *Store) CourseOfRequest(ctx context.Context, q Querier, actorIRI, requestID string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT course_id FROM course_members WHERE actor_iri = $1 AND request_id = $2`, actorIRI, requestID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("request %s of %s: %w", requestID, actorIRI, notFound(err))
	}
	return id, nil
}

// MemberInboxesVia is MemberInboxes restricted to members who came by via
// ("follow" or "join").
func MemberInboxesVia(ctx context.Context, q Querier, courseID int64, via string) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT CASE WHEN shared_inbox <> '' THEN shared_inbox ELSE inbox END
		FROM course_members
		WHERE course_id = $1 AND state = 'accepted' AND user_id IS NULL AND via = $2
		  AND (shared_inbox <> '' OR inbox <> '')`, courseID, via)
	if err != nil {
		return nil, fmt.Errorf("member inboxes of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// MaxStaff bounds how many owners and moderators Staff returns, so that a
// course document stays small whatever its roster.
const MaxStaff = 100

// Staff returns the actor IRIs of the course's accepted owner and
// moderators (at most MaxStaff), owner first, in one bounded query.
func (s *Store) Staff(ctx context.Context, q Querier, courseID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT actor_iri FROM course_members
		WHERE course_id = $1 AND state = 'accepted' AND role IN ('owner', 'moderator')
		ORDER BY role = 'owner' DESC, joined_at, actor_iri LIMIT $2`, courseID, MaxStaff)
	if err != nil {
		return nil, fmt.Errorf("staff of course %d: %w", courseID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// MemberCursor is a position in a course's accepted members, ordered by
// when they joined: a page lists the members after it.
type MemberCursor struct {
	JoinedAt time.Time
	ActorIRI string
}

// AcceptedPage returns up to limit accepted members of a course after the
// cursor (from the start when after is nil), in the order they joined, and
// the cursor of the next page (nil on the last page). It reads limit+1 rows
// by keyset, so a page costs the same on the first page and the last,
// however many members the course has.
func (s *Store) AcceptedPage(ctx context.Context, q Querier, courseID int64, after *MemberCursor, limit int) ([]Member, *MemberCursor, error) {
	var rows pgx.Rows
	var err error
	if after == nil {
		rows, err = q.Query(ctx, `SELECT `+memberColumns+` FROM course_members
			WHERE course_id = $1 AND state = 'accepted' ORDER BY joined_at, actor_iri LIMIT $2`, courseID, limit+1)
	} else {
		rows, err = q.Query(ctx, `SELECT `+memberColumns+` FROM course_members
			WHERE course_id = $1 AND state = 'accepted' AND (joined_at, actor_iri) > ($2, $3)
			ORDER BY joined_at, actor_iri LIMIT $4`, courseID, after.JoinedAt, after.ActorIRI, limit+1)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("members of course %d: %w", courseID, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) { return scanMember(r) })
	if err != nil {
		return nil, nil, fmt.Errorf("members of course %d: %w", courseID, err)
	}
	if len(ms) <= limit {
		return ms, nil, nil
	}
	ms = ms[:limit]
	last := ms[limit-1]
	return ms, &MemberCursor{JoinedAt: last.JoinedAt, ActorIRI: last.ActorIRI}, nil
}

// Roster lists up to limit members of a course for its moderators: those
// waiting for approval first, then owners and moderators, then by when they
// joined. It is bounded, so a moderator's page stays small however many
// members the course has.
func (s *Store) Roster(ctx context.Context, q Querier, courseID int64, limit int) ([]Member, error) {
	rows, err := q.Query(ctx, `SELECT `+memberColumns+` FROM course_members WHERE course_id = $1
		ORDER BY state <> 'pending', CASE role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 ELSE 2 END, joined_at, actor_iri
		LIMIT $2`, courseID, limit)
	if err != nil {
		return nil, fmt.Errorf("roster of course %d: %w", courseID, err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) { return scanMember(r) })
	if err != nil {
		return nil, fmt.Errorf("roster of course %d: %w", courseID, err)
	}
	return ms, withMoves(ctx, q, ms)
}
