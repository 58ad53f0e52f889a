-- A budget no setting can undo (PRIVACY.md, "The budget over time").
--
-- 1. The ledger keeps time: each row holds the start of its round (ms since the epoch), and the
--    budget holds over any window of budget_period_days by those starts, so a change of round or
--    period length can no longer move a spend out of the window it was made in. Rows from before
--    were numbered floor(start / round length) since the epoch (the only schedule there was), so
--    their start is round x round_seconds; a row charged under another round length than the
--    site's now cannot be told apart, and keeps that estimate.
ALTER TABLE privacy_ledger ADD COLUMN round_start INTEGER;
UPDATE privacy_ledger SET round_start = round * (SELECT round_seconds FROM sites WHERE sites.id = privacy_ledger.site) * 1000;

-- 2. The noise a merchant set, or NULL: paced, the noise at which every round of a period fits the
--    budget (protocol/budget-pacing.ts). noise_multiplier held 5 for every site that never set one
--    (the old default, which ran a budget of 8 out on day 13 of 30): those are paced from now on.
--    Bounds that keep every figure meaningful: noise at least 0.5, a budget of at most 20.
ALTER TABLE sites ADD COLUMN noise_setting REAL;
UPDATE sites SET noise_setting = CASE WHEN noise_multiplier = 5 THEN NULL ELSE MAX(noise_multiplier, 0.5) END;
UPDATE sites SET epsilon_budget = MIN(epsilon_budget, 20);

-- 3. Client keys are per network (an IPv6 /64, or /56 where a site says so): its prefix length.
ALTER TABLE sites ADD COLUMN ipv6_prefix INTEGER NOT NULL DEFAULT 64;

-- 4. Wrong admin tokens per site and minute, whatever network they come from.
CREATE TABLE admin_failures (
  site TEXT NOT NULL,
  minute INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY (site, minute)
);
