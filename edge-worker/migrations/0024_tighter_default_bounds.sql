-- The default bounds of a device's head statistics, off-policy sums and offsets drop from 40, 50
-- and 3 to 10, 10 and 1.5 (protocol/privacy.ts): at the old ones a small shop's gate could not
-- judge a candidate (its intervals were ten times as wide as at bounds near the devices' norms:
-- docs/lab/learning-at-a-small-shop.md), and the offsets carried twice the noise. Sites still on
-- the old defaults move with them; a bound a merchant chose is left alone. A round keeps the
-- bounds it began under (the round's Durable Object holds them), so only rounds that begin after
-- this use the new ones. (As in 0009: every write of a site row names these columns, so the
-- column defaults are never used.)
UPDATE sites SET head_clip = 10 WHERE head_clip = 40;
UPDATE sites SET ope_clip = 10 WHERE ope_clip = 50;
UPDATE sites SET offset_clip = 1.5 WHERE offset_clip = 3;
