-- +goose Up

-- courses: reads that must not grow with a course's roster or discussion
-- (the course document, followers pages by keyset, the discussion's
-- newest posts by keyset), and lookups that scanned whole tables.
CREATE INDEX course_members_accepted ON course_members (course_id, joined_at, actor_iri) WHERE state = 'accepted';
CREATE INDEX course_members_staff ON course_members (course_id) WHERE state = 'accepted' AND role IN ('owner', 'moderator');
CREATE INDEX course_members_inbox ON course_members (inbox) WHERE inbox <> '';
CREATE INDEX remote_enrollments_course ON remote_enrollments (course_iri);
CREATE INDEX posts_course_seq ON posts (course_iri, seq DESC) WHERE NOT deleted;
