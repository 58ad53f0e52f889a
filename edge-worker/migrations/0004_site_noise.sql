-- The noise multiplier of a site's releases (PRIVACY.md): more noise, less epsilon per round.
ALTER TABLE sites ADD COLUMN noise_multiplier REAL NOT NULL DEFAULT 3.5;
