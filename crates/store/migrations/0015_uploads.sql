-- Files streamed to the file store ahead of the request that attaches them: the JSON API sends
-- a file's body to /api/v1/uploads and names the upload it got back. An upload belongs to the
-- account that sent it, is consumed when attached, and is purged when left unattached.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX uploads_by_owner ON uploads (owner_id, created_at);
CREATE INDEX uploads_by_age ON uploads (created_at);
