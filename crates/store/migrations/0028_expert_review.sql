-- Expert review (A19.2): a provider sends a large or complex work order to experts, each of
-- whom files an opinion by a date; the provider decides with the opinions before it.
CREATE TABLE expert_assignments (
    id            TEXT PRIMARY KEY,
    work_order_id TEXT NOT NULL REFERENCES access_work_orders(id),
    expert_id     TEXT NOT NULL REFERENCES users(id),
    -- What the provider asks the expert to weigh.
    question      TEXT NOT NULL,
    -- The date the opinion is due by, as days since 1970-01-01.
    due_day       BIGINT NOT NULL,
    assigned_by   TEXT NOT NULL REFERENCES users(id),
    assigned_at   BIGINT NOT NULL,
    -- approve, narrow or refuse; with the opinion's text, once filed.
    recommendation TEXT,
    opinion       TEXT,
    filed_at      BIGINT,
    UNIQUE (work_order_id, expert_id)
);
CREATE INDEX expert_assignments_expert ON expert_assignments(expert_id, due_day);
