-- Each row of the usage log also says which data version was read, which data items were
-- asked for, the answer's status, and the records and bytes answered (A25.5): one row per
-- minute and distinct (entry, version, caller, way in, fields, status), summing its calls.
ALTER TABLE usage_events ADD COLUMN version_number BIGINT;
ALTER TABLE usage_events ADD COLUMN field_list TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_events ADD COLUMN status_code INTEGER NOT NULL DEFAULT 200;
ALTER TABLE usage_events ADD COLUMN row_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN byte_count BIGINT NOT NULL DEFAULT 0;
