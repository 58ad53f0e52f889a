-- Whether a site is at the head's scale (protocol/report-parts.ts atHeadScale): it enters at
-- HEAD_SCALE noised contributors and leaves under 0.8 of it, so a shop near the line does not
-- switch its parts day by day. Sites start below it.
ALTER TABLE sites ADD COLUMN at_head_scale INTEGER NOT NULL DEFAULT 0;
