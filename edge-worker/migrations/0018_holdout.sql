-- The holdout (protocol/holdout.ts): the share of a site's devices that keep the slots' own
-- content for a period, what the dashboard measures Vitrine against. Existing sites get the
-- default, 5%.
ALTER TABLE sites ADD COLUMN holdout_share REAL NOT NULL DEFAULT 0.05;
