-- +goose Up

-- courses: posts written on this instance (by its users or its courses), as
-- opposed to copies of remote posts; NodeInfo counts them.
ALTER TABLE posts ADD COLUMN local boolean NOT NULL DEFAULT false;
