-- +goose Up

-- courses: achievements a local course defines (Open Badges 3.0
-- Achievement), served at /courses/SLUG/achievements/PUBLIC_ID.
-- peer_reviews > 0 lets that many approving reviews by fellow members award
-- a requested badge (peer assessment); on_completion awards it when a
-- learner completes the course.
CREATE TABLE achievements (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id     text NOT NULL UNIQUE,
    course_id     bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    name          text NOT NULL,
    description   text NOT NULL,
    criteria      text NOT NULL,
    image_url     text NOT NULL DEFAULT '',
    tags          text[] NOT NULL DEFAULT '{}',
    alignments    jsonb NOT NULL DEFAULT '[]',
    peer_reviews  integer NOT NULL DEFAULT 0 CHECK (peer_reviews >= 0),
    on_completion boolean NOT NULL DEFAULT false,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX achievements_course ON achievements (course_id);

-- courses: credentials a local course issued. credential is the signed
-- OpenBadgeCredential, byte for byte as served and delivered; status_index
-- is its entry in the course's revocation status list.
CREATE TABLE awards (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id       text NOT NULL UNIQUE,
    achievement_id  bigint NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    course_id       bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    recipient_iri   text NOT NULL,
    recipient_name  text NOT NULL DEFAULT '',
    recipient_inbox text NOT NULL DEFAULT '',
    colearn_peer    boolean NOT NULL DEFAULT false,
    status_index    integer NOT NULL,
    evidence        text NOT NULL DEFAULT '',
    awarded_by      text NOT NULL,
    credential      text NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_by      text NOT NULL DEFAULT '',
    UNIQUE (course_id, status_index)
);
CREATE UNIQUE INDEX awards_once ON awards (achievement_id, recipient_iri) WHERE revoked_at IS NULL;
CREATE INDEX awards_recipient ON awards (recipient_iri);

-- courses: a learner's request for a badge, with evidence; decided by a
-- facilitator, or by peer reviews when the achievement allows them.
CREATE TABLE badge_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    achievement_id bigint NOT NULL REFERENCES achievements (id) ON DELETE CASCADE,
    requester_iri  text NOT NULL,
    evidence       text NOT NULL,
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by     text NOT NULL DEFAULT '',
    award_id       bigint REFERENCES awards (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    decided_at     timestamptz
);
CREATE UNIQUE INDEX badge_requests_open ON badge_requests (achievement_id, requester_iri) WHERE state = 'pending';

CREATE TABLE badge_reviews (
    request_id   bigint NOT NULL REFERENCES badge_requests (id) ON DELETE CASCADE,
    reviewer_iri text NOT NULL,
    approve      boolean NOT NULL,
    comment      text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, reviewer_iri)
);

-- courses: completions of a local course, recorded when a facilitator
-- approves a learner's completion (see courses/completion.go).
CREATE TABLE course_completions (
    course_id    bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    learner_iri  text NOT NULL,
    approved_by  text NOT NULL,
    completed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (course_id, learner_iri)
);

-- courses: credentials local users received (their backpack), from any
-- issuer. Verified on arrival; revoked_at is set when the issuer's status
-- list says so.
CREATE TABLE backpack (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   text NOT NULL,
    issuer_iri      text NOT NULL,
    issuer_name     text NOT NULL DEFAULT '',
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    image_url       text NOT NULL DEFAULT '',
    credential      text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    UNIQUE (user_id, credential_id)
);
