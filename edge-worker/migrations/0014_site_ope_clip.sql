-- The bound of one device's off-policy sums per round, a site setting like head_clip (PRIVACY.md).
ALTER TABLE sites ADD COLUMN ope_clip REAL NOT NULL DEFAULT 50;
