-- The L2 bound of one device's last-layer statistics per round (PRIVACY.md): a site whose
-- shoppers see few ads per round can bound them tighter, and its releases carry less noise.
ALTER TABLE sites ADD COLUMN head_clip REAL NOT NULL DEFAULT 2000;
