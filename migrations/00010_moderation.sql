-- +goose Up

-- outbox: which Announce of a course boosted which post, so that removing
-- or deleting the post can send Undo(Announce) naming that Announce
-- (Mastodon drops a boost only by its id).
CREATE TABLE post_announces (
    announce_id text PRIMARY KEY,
    post_iri    text NOT NULL,
    course_id   bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    undone_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX post_announces_post ON post_announces (post_iri) WHERE undone_at IS NULL;

-- courses: instance-level domain blocks. host is lower-case host[:port]; an
-- entry without a port also covers every port and every subdomain.
CREATE TABLE domain_blocks (
    host       text PRIMARY KEY CHECK (host ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$'),
    reason     text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- courses: reports of posts and accounts, filed here or received as Flag.
CREATE TABLE reports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reporter_iri text NOT NULL,
    target_iri   text NOT NULL,
    post_iri     text NOT NULL DEFAULT '',
    course_iri   text NOT NULL DEFAULT '',
    comment      text NOT NULL DEFAULT '',
    source       text NOT NULL CHECK (source IN ('local', 'remote')),
    activity_id  text NOT NULL DEFAULT '',
    state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    resolved_by  text NOT NULL DEFAULT '',
    resolution   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz
);
CREATE UNIQUE INDEX reports_flag ON reports (activity_id, target_iri, post_iri) WHERE source = 'remote';
CREATE INDEX reports_state ON reports (state, id);

-- courses: every moderation action: who, what, when, why.
CREATE TABLE moderation_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor      text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    course_iri text NOT NULL DEFAULT '',
    report_id  bigint REFERENCES reports (id) ON DELETE SET NULL,
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_log_recent ON moderation_log (id DESC);
