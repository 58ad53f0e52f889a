-- Privacy: each site's budget, and every round whose noised sums were released (what the
-- accountant composes). A release that would take a site past its budget is refused.
ALTER TABLE sites ADD COLUMN epsilon_budget REAL NOT NULL DEFAULT 8;

CREATE TABLE privacy_ledger (
  site TEXT NOT NULL REFERENCES sites(id),
  round INTEGER NOT NULL,
  -- Gaussian mechanisms in the release (head statistics, per-creative counts) and their noise multiplier.
  mechanisms INTEGER NOT NULL,
  noise_multiplier REAL NOT NULL,
  contributors INTEGER NOT NULL,
  released_at TEXT NOT NULL,
  PRIMARY KEY (site, round)
);
