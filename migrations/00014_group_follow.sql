-- +goose Up

-- courses: how a local user asked to enroll in a group on another server.
-- colearn courses (actors marked colearn:course) get a Join; any other
-- Group (Lemmy, Mbin, PieFed, Friendica, Guppe) a Follow, which is undone
-- with Undo(Follow) when the user leaves.
ALTER TABLE remote_enrollments
    ADD COLUMN via text NOT NULL DEFAULT 'join' CHECK (via IN ('join', 'follow'));
