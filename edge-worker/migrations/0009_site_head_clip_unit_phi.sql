-- Models are now trained with u * v scaled to unit size (model-training/src/fit-two-tower.ts),
-- so a shown decision adds about 3.5 to a device's last-layer statistics instead of about 50,
-- and the default head bound drops from 2,000 to 40 (protocol/privacy.ts). Sites still on the
-- old default move with it: kept at 2,000 their releases would carry fifty times the noise the
-- new models need. A bound a merchant chose themselves is left alone. (SQLite cannot change a
-- column's default in place; every write of a site row names head_clip, so the column default
-- is never used.)
UPDATE sites SET head_clip = 40 WHERE head_clip = 2000;
