-- Proprietary formats the operator allows for one entry, with the reason (A9.3).
CREATE TABLE format_exceptions (
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    format     TEXT NOT NULL REFERENCES formats(code),
    reason     TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (dataset_id, format)
);
