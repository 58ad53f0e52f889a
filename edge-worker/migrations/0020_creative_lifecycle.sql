-- A creative's life (issue 29): paused or active, and an optional schedule (ms since the epoch);
-- the config serves only active creatives within their schedule. Existing creatives are active,
-- unscheduled.
ALTER TABLE creatives ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE creatives ADD COLUMN starts_at INTEGER;
ALTER TABLE creatives ADD COLUMN ends_at INTEGER;
