-- Policies, rules and news published on the portal (A25.4). The body is Markdown; pages render
-- it and remove anything unsafe.
CREATE TABLE articles (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    published_at BIGINT,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX articles_by_publication ON articles (status, published_at);
