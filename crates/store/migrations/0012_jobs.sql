-- Background jobs: a queue in the database with leases, so any node (or a separate worker) can
-- take a job, a crashed one's job is taken again when its lease runs out, and retries, the dead
-- letter state, cancellation and progress are visible to the operator.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    -- queued, running, succeeded, failed (dead letter: out of attempts), cancelled
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    -- not before this time (a retry waits out its backoff)
    run_at           BIGINT NOT NULL,
    lease_until      BIGINT,
    leased_by        TEXT,
    phase            TEXT NOT NULL DEFAULT '',
    done             BIGINT NOT NULL DEFAULT 0,
    total            BIGINT,
    last_error       TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    created_by       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(state, run_at);
