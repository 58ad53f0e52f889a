-- Days after a click in which a purchase counts as that creative's conversion (on the device).
ALTER TABLE sites ADD COLUMN attribution_days INTEGER NOT NULL DEFAULT 7;
