-- When the provider's deciders were reminded that a work order's deadline is near: once each.
ALTER TABLE access_work_orders ADD COLUMN reminded_at BIGINT;
