-- The privacy guard (A10.3, A12.1, A14.1): each entry's de-identification plan, the secret its
-- pseudonyms are keyed with (never part of the open data), and the operator's exceptions that
-- let a kind of personal information be opened in one data item, each with its reason.
CREATE TABLE privacy_plans (
    dataset_id  TEXT PRIMARY KEY REFERENCES datasets(id),
    plan        TEXT NOT NULL,
    row_version BIGINT NOT NULL,
    updated_by  TEXT NOT NULL REFERENCES users(id),
    updated_at  BIGINT NOT NULL
);

CREATE TABLE pseudonym_keys (
    dataset_id TEXT PRIMARY KEY REFERENCES datasets(id),
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE privacy_exceptions (
    id         TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL REFERENCES datasets(id),
    item       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    granted_by TEXT NOT NULL REFERENCES users(id),
    granted_at BIGINT NOT NULL,
    UNIQUE (dataset_id, item, kind)
);
