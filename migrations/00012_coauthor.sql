-- +goose Up

-- courses: who may write a course from another server. A row is born as an
-- invitation (the Invite the course sent) and becomes a grant when the
-- invitee's Accept arrives; revoking or declining keeps the row, so the
-- record says who granted what, when, and who took it back.
CREATE TABLE course_grants (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_id    bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    grantee_iri  text NOT NULL,
    grantee_inbox text NOT NULL DEFAULT '',
    role         text NOT NULL CHECK (role IN ('author', 'moderator')),
    state        text NOT NULL CHECK (state IN ('invited', 'granted', 'declined', 'revoked')),
    invite_id    text NOT NULL UNIQUE,
    grant_id     text NOT NULL DEFAULT '',
    granted_by   text NOT NULL,
    invited_at   timestamptz NOT NULL DEFAULT now(),
    granted_at   timestamptz,
    ended_at     timestamptz,
    ended_by     text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX course_grants_live ON course_grants (course_id, grantee_iri) WHERE state IN ('invited', 'granted');

-- courses: invitations that courses on other servers sent to local users.
CREATE TABLE received_invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invite_id   text NOT NULL UNIQUE,
    course_iri  text NOT NULL,
    course_name text NOT NULL DEFAULT '',
    course_inbox text NOT NULL DEFAULT '',
    role        text NOT NULL,
    state       text NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'granted', 'revoked')),
    received_at timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz
);
CREATE INDEX received_invitations_user ON received_invitations (user_id, id);

-- courses: changes a local author sent to a course on another server, and
-- the course's answer; a refused text stays here beside the current one,
-- so nothing an author wrote is lost.
CREATE TABLE remote_edits (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_id      text NOT NULL UNIQUE,
    course_iri       text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('Create', 'Update', 'Delete')),
    module_iri       text NOT NULL DEFAULT '',
    base             integer NOT NULL DEFAULT 0,
    title            text NOT NULL DEFAULT '',
    summary          text NOT NULL DEFAULT '',
    body             text NOT NULL DEFAULT '',
    state            text NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'applied', 'refused')),
    reason           text NOT NULL DEFAULT '',
    result_revision  integer NOT NULL DEFAULT 0,
    current_title    text NOT NULL DEFAULT '',
    current_body     text NOT NULL DEFAULT '',
    sent_at          timestamptz NOT NULL DEFAULT now(),
    answered_at      timestamptz
);
CREATE INDEX remote_edits_user ON remote_edits (user_id, id);
