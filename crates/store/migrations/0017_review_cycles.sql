-- The annual review (A10.1) as a yearly cycle per provider: one row per organization and year
-- once the provider submits it (a year without a row is open), with the entries it covered.
CREATE TABLE review_cycles (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    state TEXT NOT NULL,
    submitted_at BIGINT,
    submitted_by TEXT,
    decided_at BIGINT,
    decided_by TEXT,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, year)
);
CREATE INDEX review_cycles_by_year ON review_cycles (year, state);

CREATE TABLE review_cycle_entries (
    cycle_id TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    reviewed_at BIGINT NOT NULL,
    PRIMARY KEY (cycle_id, dataset_id)
);
