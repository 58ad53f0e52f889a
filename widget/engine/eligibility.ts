/**
 * Which candidates may be shown at all, decided before anything is scored: a creative a policy
 * never considers cannot be chosen, so its exclusion costs no probability mass and leaves every
 * logged propensity exact over what was really eligible.
 */
import { LAYOUT_TRAITS } from '../../protocol/catalog.ts';
import type { Candidate, SiteConfig } from '../../protocol/wire.ts';
import type { DeviceDB } from './device-store.ts';

const DAY_MS = 86_400_000;

/**
 * Viewable impressions per creative on this device over the last 24 hours, for the frequency
 * cap. Read from the decisions log once when the engine starts, then counted in memory as this
 * page records impressions: a decision does not pay for a scan of the log. (Another tab's
 * impressions count from the next page on.)
 */
export class ImpressionCounter {
  private times = new Map<string, number[]>();

  static async load(db: DeviceDB | null, now: number): Promise<ImpressionCounter> {
    const counter = new ImpressionCounter();
    if (!db) return counter;
    const recent = await db.getAllFromIndex('decisions', 'byTime', IDBKeyRange.lowerBound(now - DAY_MS));
    for (const d of recent) if (d.impression) counter.add(d.creativeId, d.at);
    return counter;
  }

  add(creativeId: string, at: number): void {
    const list = this.times.get(creativeId);
    if (list) list.push(at);
    else this.times.set(creativeId, [at]);
  }

  /** Counts per creative within the 24 hours before `now`. */
  countsAt(now: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [id, list] of this.times) {
      const n = list.filter((t) => t > now - DAY_MS).length;
      if (n > 0) counts.set(id, n);
    }
    return counts;
  }
}

/** The creatives this shopper dismissed ("not interested"), read once at start, then kept in memory. */
export async function loadDismissed(db: DeviceDB | null): Promise<Set<string>> {
  return new Set(db ? await db.getAllKeys('dismissed') : []);
}

/**
 * Indexes of the candidates eligible now: not in an excluded category, under the frequency cap,
 * not dismissed by this shopper, not a product the shopper is looking at or already has in the cart
 * (`notAdvertised`; out-of-stock products are already left out by the edge).
 */
export function eligibleIndexes(
  candidates: readonly Candidate[],
  config: Pick<SiteConfig, 'frequencyCapPerDay' | 'excludedCategories'>,
  shown: Map<string, number>,
  dismissed: ReadonlySet<string> = new Set(),
  notAdvertised: ReadonlySet<string> = new Set(),
): number[] {
  const excluded = new Set(config.excludedCategories);
  const cap = config.frequencyCapPerDay;
  const out: number[] = [];
  candidates.forEach((c, i) => {
    if (excluded.has(c.category) || dismissed.has(c.id)) return;
    // The product on screen or in the cart is not advertised (a carousel leaves it out of its items instead).
    if (c.productId && notAdvertised.has(c.productId) && !LAYOUT_TRAITS[c.layout].items) return;
    if (cap > 0 && (shown.get(c.id) ?? 0) >= cap) return;
    out.push(i);
  });
  return out;
}
