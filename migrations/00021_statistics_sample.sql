-- +goose Up

-- The queue tables (and posts) are analyzed every few seconds while they
-- fill (00020). ANALYZE reads a sample of 300 × the statistics target rows,
-- 30,000 by default, from as many pages, and sorts every column of it: over
-- 100,000 accepted Creates, autovacuum spent 22 s of CPU analyzing posts,
-- inbox_activities and outbox_activities, a fifth of PostgreSQL's share of
-- the load, and more per analyze as the tables grew. Every query on these
-- tables goes through an index by key; its plan needs a row count, null
-- fractions (processed_at) and distinct counts (actor_iri, course_iri),
-- which a sample of 3,000 rows gives as well. A column added to these
-- tables later must be given the same target, or the sample grows back.
-- +goose StatementBegin
DO $$
DECLARE
	c record;
BEGIN
	FOR c IN
		SELECT a.attrelid::regclass AS tbl, a.attname AS col FROM pg_attribute a
		WHERE a.attrelid IN ('inbox_activities'::regclass, 'outbox_activities'::regclass, 'posts'::regclass, 'post_announces'::regclass)
		  AND a.attnum > 0 AND NOT a.attisdropped
	LOOP
		EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 10', c.tbl, c.col);
	END LOOP;
END $$;
-- +goose StatementEnd

