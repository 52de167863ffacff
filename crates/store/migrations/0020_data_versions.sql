-- Data versions of open-list entries (A10.2, A16.1). Each file a provider uploads is ingested
-- into a version: read against the entry's data items, checked by the quality gate and written
-- as an immutable Parquet file. A version that passes is published by switching the entry's
-- current version in the same transaction that numbers it; refused and failed ones keep their
-- quality report for the provider (and the operator's view of quality per provider, A16.4).
CREATE TABLE data_versions (
    id TEXT PRIMARY KEY,
    dataset_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    -- 1, 2, 3… in the order published; none until then
    number BIGINT,
    -- ingesting, published, refused, failed, cancelled
    state TEXT NOT NULL,
    -- replace, append
    mode TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    source_size BIGINT NOT NULL,
    -- csv, tsv, …
    source_format TEXT NOT NULL,
    -- as the provider declared it, if they did
    declared_encoding TEXT,
    -- as read (declared, from a BOM, or detected)
    encoding TEXT,
    job_id TEXT,
    parquet_sha256 TEXT,
    parquet_size BIGINT,
    failures_sha256 TEXT,
    rows BIGINT,
    -- the score in tenths (0–1000), so both backends store it exactly
    score BIGINT,
    -- JSON: the data items the file was read against, the quality report, the profile
    items TEXT NOT NULL,
    report TEXT,
    profile TEXT,
    error TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (dataset_id, number)
);
CREATE INDEX data_versions_by_dataset ON data_versions (dataset_id, created_at);
CREATE INDEX data_versions_by_org ON data_versions (org_id, created_at);

-- The version the entry's data is now: switched only once a version is completely written.
ALTER TABLE datasets ADD COLUMN data_version TEXT;
-- What the public JSON of the entry says of its data (JSON: number, rows, size, time), kept
-- with the entry so that every reader of entries has it without another query.
ALTER TABLE datasets ADD COLUMN data_summary TEXT;
