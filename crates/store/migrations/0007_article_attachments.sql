-- Files attached to policies, rules and news (A25.4): the full text of a regulation, a form to
-- download. Kept in the database like ticket attachments, base64-encoded.
CREATE TABLE article_attachments (
    id          TEXT PRIMARY KEY,
    article_id  TEXT NOT NULL REFERENCES articles(id),
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX article_attachments_by_article ON article_attachments (article_id, created_at);
