-- +goose Up

-- courses: remote actors following a local user (a Mastodon account
-- pressing Follow on @name@host). The inboxes are those the follower's own
-- document declared when it was last fetched; the user's public posts are
-- delivered there.
CREATE TABLE user_followers (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    actor_iri    text NOT NULL,
    inbox        text NOT NULL DEFAULT '',
    shared_inbox text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT '',
    followed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, actor_iri)
);
CREATE INDEX user_followers_page ON user_followers (user_id, followed_at, actor_iri);
CREATE INDEX user_followers_actor ON user_followers (actor_iri);

-- courses: remote actors that moved to another account (Move, accepted
-- only when the new account's own document lists the old one in
-- alsoKnownAs). Followers are left to follow the new account themselves.
CREATE TABLE actor_moves (
    actor_iri   text PRIMARY KEY,
    moved_to    text NOT NULL,
    activity_id text NOT NULL,
    moved_at    timestamptz NOT NULL DEFAULT now()
);

-- courses: remote actors that deleted themselves (a Delete of the actor,
-- confirmed by its origin answering 404 or 410) have their posts hidden
-- (deleted), found by author.
CREATE INDEX posts_author ON posts (author_iri) WHERE NOT deleted;
