/**
 * The per-site privacy ledger in D1: every released round, the budget period it belongs to, and
 * the Gaussian mechanisms it was made of. The accountant (protocol/privacy.ts, exact Gaussian DP)
 * composes a period's rounds into (epsilon, delta); a release that would take the period past
 * the site's budget is refused before any noise is drawn.
 *
 * The check and the write are one step: a reservation writes the ledger row only if the site's
 * ledger head still holds the version the check read (an optimistic lock inside one D1 batch,
 * which D1 runs as one transaction), so two releases at the same moment cannot both pass on
 * the same spend; the one that lost reads the ledger again and checks again.
 */
import { epsilonSpent, mechanismMultipliers, PRIVACY_DELTA } from '../../protocol/privacy.ts';
import { HttpError } from './http-error.ts';
import type { SiteRow } from './site-store.ts';

const DAY_MS = 86_400_000;

export interface LedgerRow {
  round: number;
  /** The budget period the round belongs to (periodOf). */
  period: number;
  mechanisms: number;
  noiseMultiplier: number;
  contributors: number;
  releasedAt: string;
}

/** The budget period a round belongs to: the one its start falls in (periods of `periodDays` since the epoch). */
export function periodOf(round: number, roundSeconds: number, periodDays: number): number {
  return Math.floor((round * roundSeconds * 1000) / (periodDays * DAY_MS));
}

/** When a period starts and when the next one does (ISO 8601). */
export function periodBounds(period: number, periodDays: number): { start: string; renewsAt: string } {
  return { start: new Date(period * periodDays * DAY_MS).toISOString(), renewsAt: new Date((period + 1) * periodDays * DAY_MS).toISOString() };
}

export async function ledgerRows(db: D1Database, site: string): Promise<LedgerRow[]> {
  const { results } = await db
    .prepare('SELECT round, period, mechanisms, noise_multiplier, contributors, released_at FROM privacy_ledger WHERE site = ? ORDER BY round')
    .bind(site)
    .all<{ round: number; period: number; mechanisms: number; noise_multiplier: number; contributors: number; released_at: string }>();
  return results.map((r) => ({
    round: r.round,
    period: r.period,
    mechanisms: r.mechanisms,
    noiseMultiplier: r.noise_multiplier,
    contributors: r.contributors,
    releasedAt: r.released_at,
  }));
}

/** The noise multipliers of every mechanism in `rows`, one entry per mechanism. */
export function mechanismsOf(rows: readonly Pick<LedgerRow, 'mechanisms' | 'noiseMultiplier'>[]): number[] {
  return rows.flatMap((r) => mechanismMultipliers(r.mechanisms, r.noiseMultiplier));
}

/** Epsilon spent by `rows` (composed exactly). */
export function spent(rows: readonly LedgerRow[]): number {
  return epsilonSpent(mechanismsOf(rows), PRIVACY_DELTA).epsilon;
}

/** The site's period now (the period of the open round). */
export function currentPeriod(site: Pick<SiteRow, 'roundSeconds' | 'budgetPeriodDays'>, now = Date.now()): number {
  return periodOf(Math.floor(now / (site.roundSeconds * 1000)), site.roundSeconds, site.budgetPeriodDays);
}

export interface Release {
  round: number;
  /** What the round has cost once this step is taken: the count vector alone (COUNT_MECHANISMS), or with its sums. */
  mechanisms: number;
  noiseMultiplier: number;
  /** The noised contributor count (known once counted; 0 before). */
  contributors: number;
}

/**
 * Reserves `release` in the ledger if its period's spend stays within the site's budget: 403
 * `privacy_budget_exhausted` with the reason otherwise. A round is charged in two steps (its
 * count vector when it is counted, then its sums when released above K): a round's row grows
 * to what it has cost, and a step the row already covers spends nothing more. Resolves with the
 * period and its spend after the release.
 */
export async function reserveRelease(db: D1Database, site: SiteRow, release: Release): Promise<{ period: number; epsilon: number }> {
  const period = periodOf(release.round, site.roundSeconds, site.budgetPeriodDays);
  for (let attempt = 0; attempt < 10; attempt++) {
    const [rows, head] = await Promise.all([
      ledgerRows(db, site.id),
      db.prepare('SELECT version FROM privacy_ledger_heads WHERE site = ?').bind(site.id).first<{ version: string }>(),
    ]);
    const inPeriod = rows.filter((r) => r.period === period);
    const recorded = rows.find((r) => r.round === release.round);
    if (recorded && recorded.mechanisms >= release.mechanisms - 1e-9) return { period, epsilon: spent(inPeriod) };
    const others = inPeriod.filter((r) => r.round !== release.round);
    const next = epsilonSpent([...mechanismsOf(others), ...mechanismMultipliers(release.mechanisms, release.noiseMultiplier)], PRIVACY_DELTA).epsilon;
    if (next > site.epsilonBudget) {
      const { renewsAt } = periodBounds(period, site.budgetPeriodDays);
      throw new HttpError(
        403,
        'privacy_budget_exhausted',
        `releasing round ${release.round} would bring site ${site.id} to epsilon ${next.toFixed(2)} (delta ${PRIVACY_DELTA}) in its budget period ${period}, past its budget of ${site.epsilonBudget}; ${others.length} rounds are charged in this period, which renews at ${renewsAt}`,
      );
    }
    const seen = head?.version ?? '';
    const version = crypto.randomUUID();
    const [, moved, written] = await db.batch([
      db.prepare("INSERT OR IGNORE INTO privacy_ledger_heads (site, version) VALUES (?, '')").bind(site.id),
      db.prepare('UPDATE privacy_ledger_heads SET version = ? WHERE site = ? AND version = ?').bind(version, site.id, seen),
      db
        .prepare(
          `INSERT INTO privacy_ledger (site, round, period, mechanisms, noise_multiplier, contributors, released_at)
           SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT version FROM privacy_ledger_heads WHERE site = ?) = ?
           ON CONFLICT (site, round) DO UPDATE SET mechanisms = excluded.mechanisms, contributors = excluded.contributors, released_at = excluded.released_at
             WHERE privacy_ledger.mechanisms < excluded.mechanisms`,
        )
        .bind(site.id, release.round, period, release.mechanisms, release.noiseMultiplier, release.contributors, new Date().toISOString(), site.id, version),
    ]);
    if (moved!.meta.changes === 1 && written!.meta.changes === 1) return { period, epsilon: next };
    // Another release moved the head first (or charged this very round): read and check again.
  }
  throw new HttpError(503, 'ledger_busy', `the privacy ledger of site ${site.id} kept changing while this release was checked; try again`);
}

/** The noised contributor count of a round charged before it was counted. */
export async function recordContributors(db: D1Database, site: string, round: number, contributors: number): Promise<void> {
  await db.prepare('UPDATE privacy_ledger SET contributors = ? WHERE site = ? AND round = ?').bind(contributors, site, round).run();
}

/**
 * Why `next` settings would loosen privacy within the current period, or null. Once a period
 * has released anything, its budget can be lowered and its noise raised, never the reverse, and
 * its periods can be made longer, never shorter (a shorter period renews sooner).
 */
export function looserWithinPeriod(
  current: SiteRow,
  next: { epsilonBudget: number; noiseMultiplier: number; budgetPeriodDays: number },
  rows: readonly LedgerRow[],
  now = Date.now(),
): string | null {
  const period = currentPeriod(current, now);
  if (!rows.some((r) => r.period === period)) return null;
  const { renewsAt } = periodBounds(period, current.budgetPeriodDays);
  const until = `the current budget period has released rounds; it renews at ${renewsAt}`;
  if (next.epsilonBudget > current.epsilonBudget)
    return `epsilonBudget can only be lowered within a period (${current.epsilonBudget} now, ${next.epsilonBudget} asked): ${until}`;
  if (next.noiseMultiplier < current.noiseMultiplier)
    return `noiseMultiplier can only be raised within a period (${current.noiseMultiplier} now, ${next.noiseMultiplier} asked): ${until}`;
  if (next.budgetPeriodDays < current.budgetPeriodDays)
    return `budgetPeriodDays can only be lengthened within a period (${current.budgetPeriodDays} now, ${next.budgetPeriodDays} asked): ${until}`;
  return null;
}
