-- Data use agreements (A20.1) and the credentials that deliver under them (A21.1).

-- A provider's own agreement template; without one, the platform's default is used.
CREATE TABLE agreement_templates (
    org_id     TEXT PRIMARY KEY REFERENCES organizations(id),
    text       TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE access_agreements (
    id             TEXT PRIMARY KEY,
    work_order_id  TEXT NOT NULL REFERENCES access_work_orders(id),
    application_id TEXT NOT NULL REFERENCES access_applications(id),
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    applicant_id   TEXT NOT NULL REFERENCES users(id),
    -- A change is a new version, signed again.
    version        BIGINT NOT NULL,
    state          TEXT NOT NULL,
    -- The agreement's text as generated; frozen once signed. Its SHA-256 (hex) is what each
    -- side signs and what the audit chain records.
    text           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    -- JSON: what is granted, per entry (items, period, calls a day).
    grants         TEXT NOT NULL,
    period_start   TEXT NOT NULL,
    period_end     TEXT NOT NULL,
    applicant_signed_at BIGINT,
    provider_signed_at  BIGINT,
    provider_signed_by  TEXT,
    -- The API token issued when both have signed.
    credential_id  TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (work_order_id, version)
);
CREATE INDEX access_agreements_applicant ON access_agreements(applicant_id, updated_at);
CREATE INDEX access_agreements_org ON access_agreements(org_id, updated_at);

-- A token may deliver under one agreement only: read-only, to the entries and items granted.
ALTER TABLE api_tokens ADD COLUMN scope_agreement TEXT;
