-- +goose Up

-- A fresh instance's registrations are invitation-only: an admin opens them
-- at /admin/settings. An instance that already has accounts keeps the mode
-- it runs with.
UPDATE instance_settings SET value = 'invite'
WHERE key = 'registrations' AND value = 'open' AND NOT EXISTS (SELECT 1 FROM users);
