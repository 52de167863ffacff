-- Sample data (A22.1): the operator's definition of each conditional entry's sample, and the
-- samples drawn, each from one version with its seed and fidelity report. The newest
-- published sample of an entry is the one anyone downloads.
CREATE TABLE sample_specs (
    dataset_id TEXT PRIMARY KEY REFERENCES datasets(id),
    spec       TEXT NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users(id),
    updated_at BIGINT NOT NULL
);

CREATE TABLE samples (
    id             TEXT PRIMARY KEY,
    dataset_id     TEXT NOT NULL REFERENCES datasets(id),
    version_id     TEXT NOT NULL REFERENCES data_versions(id),
    spec           TEXT NOT NULL,
    seed           BIGINT NOT NULL,
    state          TEXT NOT NULL,
    rows           BIGINT,
    parquet_sha256 TEXT,
    parquet_size   BIGINT,
    report         TEXT,
    error          TEXT,
    job_id         TEXT,
    created_at     BIGINT NOT NULL,
    finished_at    BIGINT
);
CREATE INDEX samples_dataset ON samples(dataset_id, state, created_at);
