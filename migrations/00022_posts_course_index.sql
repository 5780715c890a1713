-- +goose Up

-- posts_course (course_iri, published) served the discussion read oldest
-- first, by published, which no page makes any more: every discussion is
-- read newest first by keyset on seq (posts_course_seq). Each stored post
-- paid for the index all the same.
DROP INDEX IF EXISTS posts_course;
