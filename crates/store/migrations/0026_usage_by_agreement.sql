-- Calls made with a credential issued under a data use agreement name the agreement (A29.1,
-- A30.1): its two sides see the calls per day and the data items used.
ALTER TABLE usage_events ADD COLUMN agreement_id TEXT;
CREATE INDEX usage_events_by_agreement ON usage_events (agreement_id, minute);
