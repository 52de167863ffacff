-- Sandbox delivery (A21.2, A25.6): the differential-privacy budget each sandbox grant has
-- spent, and every query asked in a sandbox with what it returned — answered, refused or
-- failed — for the applicant, the provider and the regulator to see.
CREATE TABLE sandbox_budgets (
    agreement_id TEXT NOT NULL REFERENCES access_agreements(id),
    dataset_id   TEXT NOT NULL REFERENCES datasets(id),
    -- Thousandths of epsilon.
    spent        BIGINT NOT NULL,
    PRIMARY KEY (agreement_id, dataset_id)
);

CREATE TABLE sandbox_queries (
    id           TEXT PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES access_agreements(id),
    dataset_id   TEXT REFERENCES datasets(id),
    version      BIGINT,
    user_id      TEXT NOT NULL REFERENCES users(id),
    sql          TEXT NOT NULL,
    -- answered, refused or failed
    outcome      TEXT NOT NULL,
    code         TEXT,
    group_count  BIGINT NOT NULL,
    suppressed   BIGINT NOT NULL,
    -- Thousandths of epsilon spent by this query.
    epsilon      BIGINT NOT NULL,
    -- The JSON of the answer returned (columns and rows), when answered.
    answer       TEXT,
    at           BIGINT NOT NULL
);
CREATE INDEX sandbox_queries_agreement ON sandbox_queries(agreement_id, at);
