-- Conditional opening (A18–A19): applications for conditional data, every round of their
-- completeness review, the materials uploaded with them, and the work orders an accepted
-- application becomes, one per providing organization.

CREATE TABLE access_applications (
    id           TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL REFERENCES users(id),
    state        TEXT NOT NULL,
    -- The form as last saved (JSON): entries with their items and scenario, description,
    -- period, calls a day, security measures.
    form         TEXT NOT NULL,
    -- Submissions so far; the round under review is this one.
    round        BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    row_version  BIGINT NOT NULL
);
CREATE INDEX access_applications_applicant ON access_applications(applicant_id, updated_at);
CREATE INDEX access_applications_state ON access_applications(state, updated_at);

-- One row per submission: what was submitted, frozen, and how the completeness review ended.
CREATE TABLE access_application_rounds (
    application_id TEXT NOT NULL REFERENCES access_applications(id),
    round          BIGINT NOT NULL,
    submitted_at   BIGINT NOT NULL,
    form           TEXT NOT NULL,
    -- JSON list of the materials as they were at submission.
    materials      TEXT NOT NULL,
    -- accepted, returned or withdrawn; NULL while under review.
    outcome        TEXT,
    -- JSON list of reasons, for returned.
    reasons        TEXT,
    decided_by     TEXT,
    decided_at     BIGINT,
    PRIMARY KEY (application_id, round)
);

CREATE TABLE access_materials (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES access_applications(id),
    -- The entry whose list requires it; NULL for the application's own (the security pledge).
    dataset_id     TEXT REFERENCES datasets(id),
    -- The required material's name as the entry lists it (A18.1), or security_pledge.
    material       TEXT NOT NULL,
    name           TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX access_materials_application ON access_materials(application_id);

CREATE TABLE access_work_orders (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES access_applications(id),
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    applicant_id   TEXT NOT NULL REFERENCES users(id),
    state          TEXT NOT NULL,
    -- JSON: per entry of this provider, what was applied for.
    requested      TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    -- The last day of the 10 working days (A19.2), as days since 1970-01-01, so an inbox
    -- pages by deadline on a number; the deadline is that day's end.
    due_day        BIGINT NOT NULL,
    -- 1 when the count ran into a year the calendar does not know (weekends alone).
    due_provisional BIGINT NOT NULL,
    -- JSON: the decision (criteria, grant or reasons), once decided.
    decision       TEXT,
    decided_by     TEXT,
    decided_at     BIGINT,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX access_work_orders_org ON access_work_orders(org_id, state, due_day);
CREATE INDEX access_work_orders_application ON access_work_orders(application_id);
CREATE INDEX access_work_orders_state ON access_work_orders(state, due_day);
