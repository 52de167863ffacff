-- Offline delivery (A21.1): conditional data handed over outside the platform exists only
-- with a filing the regulator sees: under which agreement, why, to whom, and the SHA-256 of
-- the file handed over.
CREATE TABLE offline_deliveries (
    id           TEXT PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES access_agreements(id),
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    filed_by     TEXT NOT NULL REFERENCES users(id),
    reason       TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    file_name    TEXT,
    size         BIGINT,
    filed_at     BIGINT NOT NULL
);
CREATE INDEX offline_deliveries_agreement ON offline_deliveries(agreement_id, filed_at);
CREATE INDEX offline_deliveries_filed ON offline_deliveries(filed_at);
