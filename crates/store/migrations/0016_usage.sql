-- The usage log: counts of reads of open-list entries, one row per minute and key, written in
-- batches off the request path (not in the audit chain), rolled up into daily counts per entry.
-- An entry's reads of the last 30 days are kept on the entry for the "most used" sort.
CREATE TABLE usage_events (
    minute BIGINT NOT NULL,
    kind TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    actor_id TEXT,
    via TEXT NOT NULL,
    count BIGINT NOT NULL
);
CREATE INDEX usage_events_by_minute ON usage_events (minute);

CREATE TABLE usage_daily (
    day TEXT NOT NULL,
    dataset_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (day, dataset_id, kind)
);
CREATE INDEX usage_daily_by_dataset ON usage_daily (dataset_id, day);

ALTER TABLE datasets ADD COLUMN usage_recent BIGINT NOT NULL DEFAULT 0;
