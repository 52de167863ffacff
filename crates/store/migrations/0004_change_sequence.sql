-- Every change of an open-list entry gets the next number of a sequence, so derived data (the
-- search index of each node) can catch up from the last number it applied. The counter row is
-- updated inside the writing transaction; its lock makes numbers commit in order.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('dataset_change', 0);

ALTER TABLE datasets ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX datasets_change_seq ON datasets(change_seq);
