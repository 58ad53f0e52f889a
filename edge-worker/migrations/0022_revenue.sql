-- Revenue (protocol/outcome-counts.ts): a site's order value is counted in units of value_unit
-- of its currency (clipped and noised with the other per-creative counts).
ALTER TABLE sites ADD COLUMN value_unit REAL NOT NULL DEFAULT 20;
