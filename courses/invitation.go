package courses

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Invitation is an invitation a course on another server sent to a local
// user, as the user's instance keeps it. State is pending, accepted,
// declined, granted (the course confirmed the grant) or revoked.
type Invitation struct {
	ID          int64
	UserID      int64
	InviteID    string
	CourseIRI   string
	CourseName  string
	CourseInbox string
	Role        string
	State       string
	ReceivedAt  time.Time
	AnsweredAt  *time.Time
}

const invitationColumns = `id, user_id, invite_id, course_iri, course_name, course_inbox, role, state, received_at, answered_at`

func scanInvitation(row pgx.Row) (Invitation, error) {
	var v Invitation
	err := row.Scan(&v.ID, &v.UserID, &v.InviteID, &v.CourseIRI, &v.CourseName, &v.CourseInbox, &v.Role, &v.State, &v.ReceivedAt, &v.AnsweredAt)
	return v, err
}

// ReceiveInvitation keeps an invitation for a local user. A second copy of
// the same Invite changes nothing.
func (s *Store) ReceiveInvitation(ctx context.Context, q Querier, v Invitation) error {
	if v.Role != RoleAuthor && v.Role != RoleModerator {
		return &ValidationError{Field: "instrument", Message: fmt.Sprintf("unknown role %q", v.Role)}
	}
	_, err := q.Exec(ctx, `INSERT INTO received_invitations (user_id, invite_id, course_iri, course_name, course_inbox, role, state)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending') ON CONFLICT (invite_id) DO NOTHING`,
		v.UserID, v.InviteID, v.CourseIRI, v.CourseName, v.CourseInbox, v.Role)
	if err != nil {
		return fmt.Errorf("keep invitation %s: %w", v.InviteID, err)
	}
	return nil
}

// Invitations lists a user's invitations, newest first.
func (s *Store) Invitations(ctx context.Context, q Querier, userID int64) ([]Invitation, error) {
	rows, err := q.Query(ctx, `SELECT `+invitationColumns+` FROM received_invitations WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("invitations of user %d: %w", userID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invitation, error) { return scanInvitation(r) })
}

// ErrAnswered means the invitation was already answered.
var ErrAnswered = errors.New("the invitation was already answered")

// AnswerInvitation marks invitation id of user userID accepted or declined
// and returns it; ErrNotFound for someone else's, ErrAnswered for one that
// is not pending.
func (s *Store) AnswerInvitation(ctx context.Context, tx pgx.Tx, userID, id int64, accepted bool) (Invitation, error) {
	v, err := scanInvitation(tx.QueryRow(ctx, `SELECT `+invitationColumns+` FROM received_invitations WHERE id = $1 AND user_id = $2 FOR UPDATE`, id, userID))
	if err != nil {
		return Invitation{}, fmt.Errorf("invitation %d: %w", id, notFound(err))
	}
	if v.State != "pending" {
		return Invitation{}, fmt.Errorf("invitation %d is %s: %w", id, v.State, ErrAnswered)
	}
	state := "declined"
	if accepted {
		state = "accepted"
	}
	v, err = scanInvitation(tx.QueryRow(ctx, `UPDATE received_invitations SET state = $2, answered_at = now() WHERE id = $1 RETURNING `+invitationColumns, id, state))
	if err != nil {
		return Invitation{}, fmt.Errorf("answer invitation %d: %w", id, err)
	}
	return v, nil
}

// GrantNoticed records what a course told a local user about their role:
// state is "granted" (the course's Add) or "revoked" (its Remove). Only the
// course itself can say it: the row is found by course and user together.
func (s *Store) GrantNoticed(ctx context.Context, q Querier, courseIRI string, userID int64, state string) error {
	_, err := q.Exec(ctx, `UPDATE received_invitations SET state = $3 WHERE id = (
		SELECT id FROM received_invitations WHERE course_iri = $1 AND user_id = $2 AND state IN ('accepted', 'granted')
		ORDER BY id DESC LIMIT 1)`, courseIRI, userID, state)
	if err != nil {
		return fmt.Errorf("note %s grant of user %d in %s: %w", state, userID, courseIRI, err)
	}
	return nil
}

// RemoteEdit is a change a local author sent to a course on another
// server, with the course's answer. A refused edit keeps the author's text
// beside the course's current one, so nothing is lost.
type RemoteEdit struct {
	ID             int64
	UserID         int64
	ActivityID     string
	CourseIRI      string
	Kind           string // Create, Update or Delete
	ModuleIRI      string
	Base           int
	Title          string
	Summary        string
	Body           string
	State          string // sent, applied, refused
	Reason         string
	ResultRevision int
	CurrentTitle   string
	CurrentBody    string
	SentAt         time.Time
	AnsweredAt     *time.Time
}

const remoteEditColumns = `id, user_id, activity_id, course_iri, kind, module_iri, base, title, summary, body, state, reason,
	result_revision, current_title, current_body, sent_at, answered_at`

func scanRemoteEdit(row pgx.Row) (RemoteEdit, error) {
	var e RemoteEdit
	err := row.Scan(&e.ID, &e.UserID, &e.ActivityID, &e.CourseIRI, &e.Kind, &e.ModuleIRI, &e.Base, &e.Title, &e.Summary, &e.Body,
		&e.State, &e.Reason, &e.ResultRevision, &e.CurrentTitle, &e.CurrentBody, &e.SentAt, &e.AnsweredAt)
	return e, err
}

// RecordRemoteEdit keeps a change before it is sent to a remote course.
func (s *Store) RecordRemoteEdit(ctx context.Context, q Querier, e RemoteEdit) (RemoteEdit, error) {
	e, err := scanRemoteEdit(q.QueryRow(ctx, `INSERT INTO remote_edits (user_id, activity_id, course_iri, kind, module_iri, base, title, summary, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+remoteEditColumns,
		e.UserID, e.ActivityID, e.CourseIRI, e.Kind, e.ModuleIRI, e.Base, e.Title, e.Summary, e.Body))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return RemoteEdit{}, fmt.Errorf("remote edit %s: already recorded", e.ActivityID)
	}
	if err != nil {
		return RemoteEdit{}, fmt.Errorf("record remote edit: %w", err)
	}
	return e, nil
}

// AnswerRemoteEdit records the course's answer to edit activityID: only the
// course the edit was sent to (courseIRI, the answer's signed actor) can
// answer it, once. It reports whether an edit was waiting for that answer.
func (s *Store) AnswerRemoteEdit(ctx context.Context, q Querier, courseIRI, activityID string, applied bool, reason string,
	revision int, currentTitle, currentBody string) (bool, error) {
	state := "refused"
	if applied {
		state = "applied"
	}
	tag, err := q.Exec(ctx, `UPDATE remote_edits SET state = $3, reason = $4, result_revision = $5, current_title = $6, current_body = $7,
			answered_at = now()
		WHERE activity_id = $1 AND course_iri = $2 AND state = 'sent'`, activityID, courseIRI, state, reason, revision, currentTitle, currentBody)
	if err != nil {
		return false, fmt.Errorf("answer of %s to %s: %w", courseIRI, activityID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// IsRemoteEdit reports whether activityID is an edit a local author sent
// to courseIRI.
func (s *Store) IsRemoteEdit(ctx context.Context, q Querier, courseIRI, activityID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM remote_edits WHERE activity_id = $1 AND course_iri = $2)`, activityID, courseIRI).Scan(&ok)
	return ok, err
}

// RemoteEdits lists the changes user userID sent to remote courses, newest
// first.
func (s *Store) RemoteEdits(ctx context.Context, q Querier, userID int64) ([]RemoteEdit, error) {
	rows, err := q.Query(ctx, `SELECT `+remoteEditColumns+` FROM remote_edits WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("remote edits of user %d: %w", userID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RemoteEdit, error) { return scanRemoteEdit(r) })
}
