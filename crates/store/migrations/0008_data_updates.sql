-- When a provider last updated an entry's data (A9.4 timeliness). Until data files are
-- delivered through the platform, providers record updates themselves.
ALTER TABLE datasets ADD COLUMN data_updated_at BIGINT;
