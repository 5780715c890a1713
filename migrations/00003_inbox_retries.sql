-- +goose Up

-- inbox: an activity whose application failed for a passing reason (its
-- object's server was down) is tried again later, a bounded number of times.
ALTER TABLE inbox_activities ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE inbox_activities ADD COLUMN next_attempt_at timestamptz;
