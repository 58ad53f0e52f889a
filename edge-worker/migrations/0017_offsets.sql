-- Offsets (protocol/offsets.ts): what a small shop learns through the noise. `learning` says which
-- parts the site's rounds collect (protocol/report-parts.ts: auto, by the site's scale; offsets;
-- full), `offset_clip` bounds a device's offsets part, and `last_contributors` is the noised
-- contributor count of the site's last released round (public: it decides "auto").
ALTER TABLE sites ADD COLUMN learning TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE sites ADD COLUMN offset_clip REAL NOT NULL DEFAULT 3;
ALTER TABLE sites ADD COLUMN last_contributors INTEGER;
