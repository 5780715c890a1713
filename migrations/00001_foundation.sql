-- +goose Up

-- courses: one namespace of handles shared by users and courses, so that
-- @name@host always names exactly one actor.
CREATE TABLE handles (
    name       text PRIMARY KEY CHECK (name ~ '^[a-z0-9_][a-z0-9_.-]{0,63}$'),
    kind       text NOT NULL CHECK (kind IN ('user', 'course')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE REFERENCES handles (name),
    display_name  text NOT NULL DEFAULT '',
    summary       text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_active   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instance_settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO instance_settings (key, value) VALUES ('registrations', 'open');

CREATE TABLE invites (
    code       text PRIMARY KEY,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    used_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz
);

-- federation: the keys of local actors, keyed by their handle ('' is the
-- instance's own Application actor).
CREATE TABLE actor_keys (
    owner           text PRIMARY KEY,
    rsa_private_pem text NOT NULL,
    ed25519_seed    bytea NOT NULL CHECK (length(ed25519_seed) = 32),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- federation: remote actors resolved and cached, with their signing key.
CREATE TABLE remote_actors (
    iri                text PRIMARY KEY,
    key_id             text NOT NULL,
    public_key_pem     text NOT NULL,
    inbox              text NOT NULL,
    shared_inbox       text NOT NULL DEFAULT '',
    preferred_username text NOT NULL DEFAULT '',
    host               text NOT NULL,
    actor_type         text NOT NULL DEFAULT '',
    document           jsonb NOT NULL,
    fetched_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX remote_actors_key_id ON remote_actors (key_id);

-- inbox: every accepted activity, once (the primary key is the dedupe).
CREATE TABLE inbox_activities (
    activity_id text PRIMARY KEY,
    actor_iri   text NOT NULL,
    type        text NOT NULL,
    recipient   text NOT NULL DEFAULT '',
    body        jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_activities_received ON inbox_activities (received_at);

-- web: sessions, in the layout of scs's pgx store.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);
