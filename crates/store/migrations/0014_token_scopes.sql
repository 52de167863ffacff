-- API tokens carry a scope: read-only or read and write, and optionally one organization.
ALTER TABLE api_tokens ADD COLUMN read_only BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_tokens ADD COLUMN scope_org TEXT;
