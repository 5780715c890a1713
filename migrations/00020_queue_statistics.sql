-- +goose Up

-- The queue tables start empty and fill by thousands of rows a second: a
-- fresh instance's first burst, or a backlog after an outage. PostgreSQL
-- plans a prepared statement once for all (a generic plan) from the
-- table's statistics, and keeps that plan until the statistics change; a
-- plan made while a table was nearly empty reads it whole (a sequential
-- scan) where an index finds a batch's rows, and keeps doing so as the
-- table grows, until autovacuum analyzes it. The default waits until a
-- tenth of the table has changed; these tables are re-analyzed after a
-- fiftieth (and 500 rows), so their plans follow them as they grow. The
-- private cluster also looks every 5 s instead of every minute
-- (internal/pgcluster); a shared server keeps its own autovacuum_naptime.
ALTER TABLE inbox_activities SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE outbox_activities SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE posts SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);
ALTER TABLE post_announces SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);

-- +goose Down
ALTER TABLE post_announces RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE posts RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE outbox_activities RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE inbox_activities RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
