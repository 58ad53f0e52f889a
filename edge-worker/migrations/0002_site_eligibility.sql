-- Per-site eligibility and refresh settings (see SiteSettingsSchema in protocol/wire.ts).
ALTER TABLE sites ADD COLUMN frequency_cap_per_day INTEGER NOT NULL DEFAULT 3;
ALTER TABLE sites ADD COLUMN excluded_categories TEXT NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE sites ADD COLUMN config_refresh_seconds INTEGER NOT NULL DEFAULT 300;
