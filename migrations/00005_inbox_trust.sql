-- +goose Up

-- inbox: the ids of deleted objects and undone activities, kept for good, so
-- that a Create, Follow or Join arriving after its Delete or Undo (a peer's
-- retry after a 5xx does exactly this) is refused instead of brought back.
-- actor_iri is who deleted or undid it.
CREATE TABLE tombstones (
    iri        text PRIMARY KEY,
    actor_iri  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- courses: a remote actor's Leave of a local course, with the time it was
-- sent (its published, else when it arrived); a Join sent before it and
-- delivered after it is refused. early marks a Leave that found no
-- membership to end: the Join it undoes is still on its way, and is refused
-- when it comes even if it carries no published time.
CREATE TABLE course_departures (
    course_id bigint NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    actor_iri text NOT NULL,
    left_at   timestamptz NOT NULL,
    early     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (course_id, actor_iri)
);

-- inbox: which processor applies an actor's activities right now. One
-- holder per actor keeps each actor's activities in order across processes;
-- a lease that expires (its process died) is taken over.
CREATE TABLE inbox_actor_leases (
    actor_iri  text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- inbox: held marks an activity waiting for its remote host's fetch budget
-- (a short wait); the actor's later activities wait behind it, to keep
-- their order.
ALTER TABLE inbox_activities ADD COLUMN held boolean NOT NULL DEFAULT false;

-- inbox: the processor's hot queries. Marking an activity applied finds it
-- by seq; claiming finds an actor's pending activities in order; pruning
-- finds old applied ones.
CREATE UNIQUE INDEX inbox_activities_seq ON inbox_activities (seq);
CREATE INDEX inbox_activities_actor_pending ON inbox_activities (actor_iri, seq) WHERE processed_at IS NULL;
CREATE INDEX inbox_activities_processed ON inbox_activities (processed_at) WHERE processed_at IS NOT NULL;
