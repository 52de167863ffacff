-- Open-list change tickets (A11) with their full history and attachments.

CREATE TABLE tickets (
    id           TEXT PRIMARY KEY,
    dataset_id   TEXT NOT NULL REFERENCES datasets(id),
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    -- The proposed metadata (JSON); NULL for a removal.
    proposed     TEXT,
    -- The published version the proposal was made against; NULL for an addition.
    base_version BIGINT,
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX tickets_state ON tickets(state, updated_at);
CREATE INDEX tickets_dataset ON tickets(dataset_id);
CREATE INDEX tickets_org ON tickets(org_id, state);

CREATE TABLE ticket_events (
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    seq       BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    actor_id  TEXT NOT NULL,
    -- submitted, returned, resubmitted, accepted, cancelled
    event     TEXT NOT NULL,
    -- JSON list of return reasons, for `returned`.
    reasons   TEXT,
    text      TEXT NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);

CREATE TABLE ticket_attachments (
    id         TEXT PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets(id),
    name       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    -- Base64 content: small documents only, until attachments move to object storage.
    content    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments(ticket_id);
