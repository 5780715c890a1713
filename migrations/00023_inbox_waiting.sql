-- +goose Up

-- inbox: the pending activities that are not ready now, waiting for a
-- retry or for their host's fetch budget (next_attempt_at in the future).
-- The inbox's backlog bound (inbox/backlog_limit.go) counts only what is
-- ready to apply, so that activities a peer made fail on purpose, retried
-- for hours, cannot keep the inbox refusing everyone else. They are few,
-- so the count is one range of this small index.
CREATE INDEX inbox_activities_waiting ON inbox_activities (next_attempt_at)
	WHERE processed_at IS NULL AND next_attempt_at IS NOT NULL;
