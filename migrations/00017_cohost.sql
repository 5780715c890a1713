-- +goose Up

-- courses: courses of other servers this instance co-hosts, and its
-- mirror of their documents (the instance actor follows each course, and
-- keeps the mirror current from the course's activities and a periodic
-- refetch). summary is sanitised HTML.
CREATE TABLE cohosted_courses (
    course_iri    text PRIMARY KEY,
    inbox         text NOT NULL,
    handle        text NOT NULL DEFAULT '',
    name          text NOT NULL DEFAULT '',
    summary       text NOT NULL DEFAULT '',
    language      text NOT NULL DEFAULT '',
    tags          text[] NOT NULL DEFAULT '{}',
    licence       text NOT NULL DEFAULT '',
    follow_id     text NOT NULL UNIQUE,
    state         text NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    added_by      text NOT NULL,
    added_at      timestamptz NOT NULL DEFAULT now(),
    refreshed_at  timestamptz,
    refresh_error text NOT NULL DEFAULT ''
);

-- courses: the mirrored modules of co-hosted courses; content is sanitised
-- HTML rendered here from the module's Markdown source.
CREATE TABLE cohosted_modules (
    module_iri text PRIMARY KEY,
    course_iri text NOT NULL REFERENCES cohosted_courses (course_iri) ON DELETE CASCADE,
    position   integer NOT NULL,
    revision   integer NOT NULL DEFAULT 0,
    title      text NOT NULL,
    summary    text NOT NULL DEFAULT '',
    content    text NOT NULL DEFAULT '',
    updated    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cohosted_modules_course ON cohosted_modules (course_iri, position);

-- courses: the instances co-hosting a local course (their instance actor's
-- Follow, accepted). They receive what the course sends to everyone but
-- are not members.
CREATE TABLE course_cohosts (
    course_id    bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    instance_iri text NOT NULL,
    inbox        text NOT NULL DEFAULT '',
    shared_inbox text NOT NULL DEFAULT '',
    follow_id    text NOT NULL,
    accepted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (course_id, instance_iri)
);

-- courses: local posts in remote courses that the course has announced
-- back (until then the post is shown as pending).
CREATE TABLE post_relays (
    post_iri    text PRIMARY KEY,
    announce_id text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX courses_language ON courses (language);
