-- Links sent by e-mail to set a new password. Only a hash of the link's secret is kept; a link
-- works once, for a short time.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);
