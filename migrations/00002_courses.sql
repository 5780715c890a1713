-- +goose Up

-- courses: a course is a Group actor named by a handle shared with users.
CREATE TABLE courses (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug              text NOT NULL UNIQUE REFERENCES handles (name),
    owner_id          bigint NOT NULL REFERENCES users (id),
    title             text NOT NULL,
    summary           text NOT NULL DEFAULT '',
    language          text NOT NULL DEFAULT 'en',
    licence           text NOT NULL DEFAULT 'CC-BY-SA-4.0',
    tags              text[] NOT NULL DEFAULT '{}',
    manually_approves boolean NOT NULL DEFAULT false,
    open_discussion   boolean NOT NULL DEFAULT false,
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- courses: who belongs to a local course. Local users and remote actors
-- alike are named by their actor IRI; remote members carry the inboxes the
-- course delivers to.
CREATE TABLE course_members (
    course_id    bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    actor_iri    text NOT NULL,
    user_id      bigint REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '',
    handle       text NOT NULL DEFAULT '',
    inbox        text NOT NULL DEFAULT '',
    shared_inbox text NOT NULL DEFAULT '',
    role         text NOT NULL DEFAULT 'learner' CHECK (role IN ('owner', 'moderator', 'learner')),
    state        text NOT NULL CHECK (state IN ('pending', 'accepted', 'blocked')),
    via          text NOT NULL CHECK (via IN ('local', 'follow', 'join')),
    request_id   text NOT NULL DEFAULT '',
    joined_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (course_id, actor_iri)
);
CREATE INDEX course_members_remote ON course_members (course_id) WHERE state = 'accepted' AND user_id IS NULL;
CREATE INDEX course_members_actor ON course_members (actor_iri);

-- courses: the discussion of every course this instance knows, local or
-- remote (remote courses' posts arrive as Announce). content is sanitised
-- HTML.
CREATE TABLE posts (
    iri           text PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    course_iri    text NOT NULL,
    author_iri    text NOT NULL,
    author_name   text NOT NULL DEFAULT '',
    author_handle text NOT NULL DEFAULT '',
    in_reply_to   text NOT NULL DEFAULT '',
    type          text NOT NULL DEFAULT 'Note' CHECK (type IN ('Note', 'Article')),
    name          text NOT NULL DEFAULT '',
    content       text NOT NULL,
    url           text NOT NULL DEFAULT '',
    published     timestamptz NOT NULL DEFAULT now(),
    updated       timestamptz,
    deleted       boolean NOT NULL DEFAULT false
);
CREATE INDEX posts_course ON posts (course_iri, published);
CREATE INDEX posts_reply ON posts (in_reply_to) WHERE in_reply_to <> '';

-- courses: ordered lessons of a local course, in Markdown; published ones
-- went out as Article.
CREATE TABLE modules (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_id    bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, position)
);

-- courses: local users' enrollments in courses on other servers.
CREATE TABLE remote_enrollments (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_iri text NOT NULL,
    state      text NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    request_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, course_iri)
);

-- inbox: activities are accepted first and applied afterwards, in order.
ALTER TABLE inbox_activities ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE inbox_activities ADD COLUMN processed_at timestamptz;
ALTER TABLE inbox_activities ADD COLUMN error text NOT NULL DEFAULT '';
CREATE INDEX inbox_activities_pending ON inbox_activities (seq) WHERE processed_at IS NULL;

-- outbox: every activity sent, stored once; deliveries reference it.
CREATE TABLE outbox_activities (
    id         text PRIMARY KEY,
    seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    actor_iri  text NOT NULL,
    key_owner  text NOT NULL,
    type       text NOT NULL,
    body       text NOT NULL,
    public     boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_activities_actor ON outbox_activities (actor_iri, seq DESC) WHERE public;

-- outbox: per-host delivery health, for the circuit breaker.
CREATE TABLE delivery_hosts (
    host            text PRIMARY KEY,
    failures        integer NOT NULL DEFAULT 0,
    paused_until    timestamptz,
    last_success_at timestamptz,
    last_failure_at timestamptz
);
