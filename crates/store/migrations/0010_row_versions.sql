-- Editable rows carry a version, checked in the UPDATE's WHERE and raised by it: of two
-- writers who read the same version, the second finds no row to update and is told so,
-- instead of silently overwriting the first.
ALTER TABLE datasets ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE articles ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE catalogue_items ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
