-- The privacy budget renews per period (a site setting, default 30 days): each released round
-- belongs to the period its start falls in, and spends that period's budget. Rows released
-- before periods existed are placed by their round's start under the default length, as if
-- periods had always been 30 days (round ids count rounds of the site's length since the epoch).
ALTER TABLE sites ADD COLUMN budget_period_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE privacy_ledger ADD COLUMN period INTEGER;
UPDATE privacy_ledger SET period = (
  SELECT (privacy_ledger.round * sites.round_seconds) / (30 * 86400) FROM sites WHERE sites.id = privacy_ledger.site
);

-- One row per site whose version every release's reservation moves: the budget check and the
-- ledger write of two releases at the same moment cannot both pass on the same spend.
CREATE TABLE privacy_ledger_heads (
  site TEXT PRIMARY KEY REFERENCES sites(id),
  version TEXT NOT NULL
);
