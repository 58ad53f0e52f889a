-- Rounds spread over several aggregators (edge-worker/src/round-shards.ts): how many per round.
-- privacy_ledger.mechanisms may now hold fractions: a round is charged its count vector (a
-- quarter of a mechanism, protocol/privacy.ts COUNT_MECHANISMS) when counted, then its sums.
ALTER TABLE sites ADD COLUMN round_shards INTEGER NOT NULL DEFAULT 1;
