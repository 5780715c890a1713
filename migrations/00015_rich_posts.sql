-- +goose Up

-- courses: what makes a post render well on other servers. summary is the
-- content warning (plain text) and sensitive its flag; tags are the post's
-- Mention and Hashtag tags and attachments its images and links, both as
-- JSON arrays of objects already checked by courses (post_rich.go).
ALTER TABLE posts
    ADD COLUMN summary     text    NOT NULL DEFAULT '',
    ADD COLUMN sensitive   boolean NOT NULL DEFAULT false,
    ADD COLUMN tags        jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN attachments jsonb   NOT NULL DEFAULT '[]';

-- users: whether search engines and full-text search on other servers may
-- index the user's posts (the actor's indexable); off unless they opt in.
ALTER TABLE users ADD COLUMN indexable boolean NOT NULL DEFAULT false;
