-- +goose Up
-- inbox_activities is written twice per activity (the accept's insert, the
-- applier's finishing update, which changes processed_at and so updates
-- every index): each index costs both. No query reads these two:
-- received_at is never searched, and the pending activities are found by
-- inbox_activities_actor_pending (actor_iri, seq), whose predicate is the
-- same (processor_plan_test.go checks that every hot query still uses an
-- index).
DROP INDEX IF EXISTS inbox_activities_received;
DROP INDEX IF EXISTS inbox_activities_pending;
