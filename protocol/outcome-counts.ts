/**
 * A creative's outcome counts: what a device's report says of each creative it showed, what a
 * round's aggregators sum, and what its release says, noised. One list of fields, so that the
 * report, the edge's sums, the release and the dashboard gain a count in one place.
 *
 * `value` is revenue: the order value of the creative's conversions (attributed as conversions
 * are: widget/engine/attribution.ts) in whole units of the round's `valueUnit` (privacy.ts), so
 * it is clipped and noised with the other counts, in the same mechanism. The device rounds an
 * order's units up or down at random, in proportion, so that their expectation is the order's
 * value and no rounding bias adds up over a period.
 */
export const COUNT_FIELDS = ['impressions', 'clicks', 'conversions', 'dismissals', 'value'] as const;
export type CountField = (typeof COUNT_FIELDS)[number];
export type OutcomeCounts = Record<CountField, number>;

export const zeroCounts = (): OutcomeCounts => ({ impressions: 0, clicks: 0, conversions: 0, dismissals: 0, value: 0 });

/** The counts in COUNT_FIELDS' order (a release's flattened vector holds one such run per creative). */
export const countVector = (c: Partial<OutcomeCounts>): number[] => COUNT_FIELDS.map((f) => c[f] ?? 0);

/** The `index`-th creative's counts of a flattened vector. */
export function countsAt(vector: readonly number[], index: number): OutcomeCounts {
  const counts = zeroCounts();
  COUNT_FIELDS.forEach((f, j) => (counts[f] = vector[index * COUNT_FIELDS.length + j]!));
  return counts;
}

/** Adds `from` into `into` (absent fields count 0: reports and releases from before a field). */
export function addCounts(into: OutcomeCounts, from: Partial<OutcomeCounts>): OutcomeCounts {
  for (const f of COUNT_FIELDS) into[f] += from[f] ?? 0;
  return into;
}

/** An order's value in whole units of `unit`, rounded up with probability equal to the fraction left: unbiased. */
export function valueUnits(amount: number, unit: number, uniform: () => number): number {
  if (!(amount > 0) || !(unit > 0)) return 0;
  const exact = amount / unit;
  const whole = Math.floor(exact);
  return whole + (uniform() < exact - whole ? 1 : 0);
}
