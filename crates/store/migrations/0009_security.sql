-- Sign-in and registration throttling by fixed windows of counted attempts, keyed by address
-- and by (account digest, address). The old per-account failure log let anyone lock any
-- account out from anywhere, and stored whatever was typed as the account.
DROP TABLE login_failures;
CREATE TABLE throttle_counters (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
CREATE INDEX throttle_counters_window ON throttle_counters(window_start);

-- One organization account per unified social credit code; others join it as members.
CREATE UNIQUE INDEX users_uscc ON users(uscc) WHERE uscc IS NOT NULL;

-- At most one open change ticket per entry, whatever two writers do at once.
CREATE UNIQUE INDEX tickets_one_open ON tickets(dataset_id) WHERE state IN ('submitted', 'returned');
