package outbox

import (
	"context"
	"fmt"

	vocab "github.com/go-ap/activitypub"
	"github.com/jackc/pgx/v5"

	"github.com/colearn/colearn/courses"
	"github.com/colearn/colearn/federation"
)

// AnswerFollow publishes local user u's Accept or Reject of a remote
// actor's Follow, signed with u's key, to the follower's own inbox. The
// Follow is embedded with its id, which is how Mastodon matches the answer.
func (s *Sender) AnswerFollow(ctx context.Context, tx pgx.Tx, u courses.User, f courses.UserFollower, t vocab.ActivityVocabularyType) error {
	userIRI := s.URLs.User(u.Username)
	follow := vocab.ActivityNew(vocab.IRI(f.RequestID), vocab.FollowType, vocab.IRI(userIRI))
	follow.Actor = vocab.IRI(f.ActorIRI)
	act := federation.NewActivity(s.URLs.Activity(federation.NewID()), t, userIRI, follow, "", []string{f.ActorIRI}, nil)
	return s.FromUser(ctx, tx, u, act, f.Inbox)
}

// FromUserToFollowers publishes act as local user u to inboxes and, when
// act is public, to u's followers too (their servers' shared inboxes, one
// delivery per host; userFollowerTargets). act's cc should name u's
// followers collection (withUserFollowers).
func (s *Sender) FromUserToFollowers(ctx context.Context, tx pgx.Tx, u courses.User, act *vocab.Activity, inboxes ...string) error {
	a, err := s.activity(act, s.URLs.User(u.Username), u.Username, inboxes)
	if err != nil {
		return err
	}
	if a.Public {
		a.UserFollowersOf = u.ID
	}
	return s.publish(ctx, tx, a)
}

// withUserFollowers adds the followers collection of the activity's actor
// (a local user) to its cc, so the addressing says who it was sent to.
func withUserFollowers(act *vocab.Activity) *vocab.Activity {
	act.CC = append(act.CC, vocab.IRI(federation.Followers(act.Actor.GetLink().String())))
	return act
}

// userFollowerTargets returns the inboxes that reach the followers of
// local user userID, by the rule memberTargets applies to a course: per
// host, the one shared inbox its followers declare most often, and personal
// inboxes only on hosts without one. However many followers (and distinct
// sharedInbox strings) one peer creates, a post reaches its host once.
func userFollowerTargets(ctx context.Context, tx pgx.Tx, userID int64) ([]string, error) {
	rows, err := tx.Query(ctx, `
		WITH f AS (
			SELECT inbox, shared_inbox,
			       lower(substring(shared_inbox FROM '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]+)')) AS shared_host,
			       lower(substring(inbox FROM '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]+)')) AS inbox_host
			FROM user_followers WHERE user_id = $1),
		votes AS (
			SELECT shared_host AS host, shared_inbox, count(*) AS n FROM f
			WHERE shared_inbox <> '' GROUP BY shared_host, shared_inbox),
		best AS (
			SELECT DISTINCT ON (host) host, shared_inbox FROM votes ORDER BY host, n DESC, shared_inbox)
		SELECT shared_inbox FROM best
		UNION ALL
		SELECT inbox FROM f WHERE shared_inbox = '' AND inbox <> ''
		  AND NOT EXISTS (SELECT 1 FROM best WHERE best.host = f.inbox_host)`, userID)
	if err != nil {
		return nil, fmt.Errorf("follower inboxes of user %d: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("follower inboxes of user %d: %w", userID, err)
	}
	return out, nil
}
