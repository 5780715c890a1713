-- +goose Up

-- inbox: activities are stored as they arrived. Nothing queries the body
-- as jsonb (the processor parses it in Go), so jsonb only cost a parse on
-- every insert and a re-serialisation on every read. The accept side has
-- already checked it is one JSON object in valid UTF-8 with no duplicate
-- keys (inbox/envelope.go).
ALTER TABLE inbox_activities ALTER COLUMN body TYPE text USING body::text;

-- inbox: the activities held for their host's fetch budget, which hold back
-- their actor's later ones. They are few and short-lived, so finding an
-- actor's first one is one probe of a tiny index instead of a look at every
-- pending row before each candidate.
CREATE INDEX inbox_activities_actor_held ON inbox_activities (actor_iri, seq)
	WHERE processed_at IS NULL AND held;

-- inbox: how many activities are pending (accepted, processed_at not set),
-- kept exactly by the statements that change it, in their own
-- transactions, so that colearn_inbox_pending costs a read of a few rows
-- however long the backlog. The count is spread over slots so that
-- concurrent writers (the accept side's group commits, the appliers'
-- batches) do not queue on one row: each statement adds its change to its
-- backend's slot, or, when another transaction holds that one, to the next
-- free one. The pending count is the sum of the slots.
CREATE TABLE inbox_pending_slots (
	slot integer PRIMARY KEY,
	n    bigint NOT NULL
);
INSERT INTO inbox_pending_slots (slot, n) SELECT g, 0 FROM generate_series(0, 63) g;
UPDATE inbox_pending_slots SET n = (SELECT count(*) FROM inbox_activities WHERE processed_at IS NULL) WHERE slot = 0;

-- Each statement adds its change in one UPDATE: to its backend's slot,
-- unless another transaction holds that one; then to the first free one
-- after it; if every slot is taken, it waits for its own.
-- +goose StatementBegin
CREATE FUNCTION inbox_pending_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	delta bigint := 0;
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE inbox_pending_slots SET n = n + (SELECT count(*) FROM new_rows WHERE processed_at IS NULL)
		WHERE slot = (SELECT slot FROM inbox_pending_slots WHERE slot = pg_backend_pid() % 64 FOR UPDATE SKIP LOCKED);
	ELSIF TG_OP = 'UPDATE' THEN
		UPDATE inbox_pending_slots SET n = n + (SELECT count(*) FROM new_rows WHERE processed_at IS NULL)
		                                   - (SELECT count(*) FROM old_rows WHERE processed_at IS NULL)
		WHERE slot = (SELECT slot FROM inbox_pending_slots WHERE slot = pg_backend_pid() % 64 FOR UPDATE SKIP LOCKED);
	ELSE
		UPDATE inbox_pending_slots SET n = n - (SELECT count(*) FROM old_rows WHERE processed_at IS NULL)
		WHERE slot = (SELECT slot FROM inbox_pending_slots WHERE slot = pg_backend_pid() % 64 FOR UPDATE SKIP LOCKED);
	END IF;
	IF FOUND THEN
		RETURN NULL;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		SELECT delta + count(*) INTO delta FROM new_rows WHERE processed_at IS NULL;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		SELECT delta - count(*) INTO delta FROM old_rows WHERE processed_at IS NULL;
	END IF;
	UPDATE inbox_pending_slots SET n = n + delta WHERE slot = (
		SELECT slot FROM inbox_pending_slots ORDER BY (slot + 64 - pg_backend_pid() % 64) % 64
		FOR UPDATE SKIP LOCKED LIMIT 1);
	IF NOT FOUND THEN
		UPDATE inbox_pending_slots SET n = n + delta WHERE slot = pg_backend_pid() % 64;
	END IF;
	RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION inbox_pending_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE inbox_pending_slots SET n = 0 WHERE n <> 0;
	RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER inbox_pending_insert AFTER INSERT ON inbox_activities
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inbox_pending_add();
CREATE TRIGGER inbox_pending_update AFTER UPDATE ON inbox_activities
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inbox_pending_add();
CREATE TRIGGER inbox_pending_delete AFTER DELETE ON inbox_activities
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION inbox_pending_add();
CREATE TRIGGER inbox_pending_truncate AFTER TRUNCATE ON inbox_activities
	FOR EACH STATEMENT EXECUTE FUNCTION inbox_pending_reset();
