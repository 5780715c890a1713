-- +goose Up

-- courses: a module of the syllabus is a live row (its current state) plus
-- every revision it went through. position is a sort key among the course's
-- modules (retired ones keep theirs); the number a learner sees is the
-- module's place among the live ones. The unique key is deferred so that two
-- modules can swap places in one transaction.
ALTER TABLE modules DROP CONSTRAINT modules_course_id_position_key;
ALTER TABLE modules ADD CONSTRAINT modules_course_position UNIQUE (course_id, position) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE modules ADD COLUMN summary text NOT NULL DEFAULT '';
ALTER TABLE modules ADD COLUMN estimated_minutes integer NOT NULL DEFAULT 0 CHECK (estimated_minutes BETWEEN 0 AND 100000);
ALTER TABLE modules ADD COLUMN links jsonb NOT NULL DEFAULT '[]';
ALTER TABLE modules ADD COLUMN attachments jsonb NOT NULL DEFAULT '[]';
ALTER TABLE modules ADD COLUMN retired boolean NOT NULL DEFAULT false;
ALTER TABLE modules ADD COLUMN revision integer NOT NULL DEFAULT 1;

-- courses: every change of a module, never changed or deleted. The author is
-- named by actor IRI and server (origin), so a remote co-author can be
-- credited the same way as a local one.
CREATE TABLE module_revisions (
    module_id         bigint NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    number            integer NOT NULL CHECK (number > 0),
    title             text NOT NULL,
    summary           text NOT NULL DEFAULT '',
    body              text NOT NULL DEFAULT '',
    estimated_minutes integer NOT NULL DEFAULT 0,
    links             jsonb NOT NULL DEFAULT '[]',
    attachments       jsonb NOT NULL DEFAULT '[]',
    position          integer NOT NULL,
    retired           boolean NOT NULL DEFAULT false,
    author_iri        text NOT NULL,
    author_name       text NOT NULL DEFAULT '',
    author_server     text NOT NULL DEFAULT '',
    base              integer NOT NULL DEFAULT 0,
    change            text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (module_id, number)
);

-- courses: edits refused because they were based on an older revision;
-- kept so that nothing an author wrote is lost, shown to them to merge.
CREATE TABLE module_conflicts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    module_id   bigint NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    author_iri  text NOT NULL,
    base        integer NOT NULL,
    current     integer NOT NULL,
    title       text NOT NULL,
    summary     text NOT NULL DEFAULT '',
    body        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX module_conflicts_module ON module_conflicts (module_id, author_iri);

-- courses: learners' progress, one row per module they marked done.
CREATE TABLE module_progress (
    module_id bigint NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    actor_iri text NOT NULL,
    done_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (module_id, actor_iri)
);
CREATE INDEX module_progress_actor ON module_progress (actor_iri);

-- courses: a course imported from an archive credits where it came from.
ALTER TABLE courses ADD COLUMN origin_iri text NOT NULL DEFAULT '';
ALTER TABLE courses ADD COLUMN origin_title text NOT NULL DEFAULT '';
ALTER TABLE courses ADD COLUMN origin_authors jsonb NOT NULL DEFAULT '[]';

-- Existing lessons become revision 1 of their module, credited to the
-- course's owner (who was the only one who could publish them).
INSERT INTO module_revisions (module_id, number, title, body, position, author_iri, author_name, author_server, change, created_at)
SELECT m.id, 1, m.title, m.body, m.position, coalesce(cm.actor_iri, ''), coalesce(cm.name, ''),
       coalesce(substring(cm.actor_iri from '^(https?://[^/]+)'), ''), 'created', m.created_at
FROM modules m
LEFT JOIN course_members cm ON cm.course_id = m.course_id AND cm.role = 'owner';
