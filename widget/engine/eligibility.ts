/**
 * Which candidates may be shown at all, decided before anything is scored: a creative a policy
 * never considers cannot be chosen, so its exclusion costs no probability mass and leaves every
 * logged propensity exact over what was really eligible.
 */
import type { Candidate, SiteConfig } from '../../protocol/wire.ts';
import type { DeviceDB } from './device-store.ts';

const DAY_MS = 86_400_000;

/** Viewable impressions per creative on this device over the last 24 hours (the decisions log is the source). */
export async function impressionsToday(db: DeviceDB, now: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const recent = await db.getAllFromIndex('decisions', 'byTime', IDBKeyRange.lowerBound(now - DAY_MS));
  for (const d of recent) if (d.impression) counts.set(d.creativeId, (counts.get(d.creativeId) ?? 0) + 1);
  return counts;
}

/**
 * Indexes of the candidates eligible now: not in an excluded category and under the frequency
 * cap (out-of-stock products are already left out by the edge).
 */
export function eligibleIndexes(candidates: readonly Candidate[], config: Pick<SiteConfig, 'frequencyCapPerDay' | 'excludedCategories'>, shown: Map<string, number>): number[] {
  const excluded = new Set(config.excludedCategories);
  const cap = config.frequencyCapPerDay;
  const out: number[] = [];
  candidates.forEach((c, i) => {
    if (excluded.has(c.category)) return;
    if (cap > 0 && (shown.get(c.id) ?? 0) >= cap) return;
    out.push(i);
  });
  return out;
}
