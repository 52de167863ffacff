-- Attachments move to the object store, content-addressed by their SHA-256 (which the rows
-- already hold). The content column stays, nullable, only until `Store::move_attachments_to`
-- has copied each old row's content out and cleared it; new rows never fill it.
CREATE TABLE ticket_attachments_new (
    id         TEXT PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets(id),
    name       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    content    TEXT,
    created_at BIGINT NOT NULL
);
INSERT INTO ticket_attachments_new SELECT id, ticket_id, name, media_type, size, sha256, content, created_at FROM ticket_attachments;
DROP TABLE ticket_attachments;
ALTER TABLE ticket_attachments_new RENAME TO ticket_attachments;
CREATE INDEX ticket_attachments_ticket ON ticket_attachments(ticket_id);

CREATE TABLE article_attachments_new (
    id          TEXT PRIMARY KEY,
    article_id  TEXT NOT NULL REFERENCES articles(id),
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT,
    created_at  BIGINT NOT NULL
);
INSERT INTO article_attachments_new SELECT id, article_id, name, media_type, size, sha256, content, created_at FROM article_attachments;
DROP TABLE article_attachments;
ALTER TABLE article_attachments_new RENAME TO article_attachments;
CREATE INDEX article_attachments_by_article ON article_attachments (article_id, created_at);
