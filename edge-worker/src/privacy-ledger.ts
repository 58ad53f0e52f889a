/**
 * The per-site privacy ledger in D1: every released round and the Gaussian mechanisms it was
 * made of. The accountant (protocol/privacy.ts) composes them into (epsilon, delta); a release
 * that would pass the site's budget is refused before any noise is drawn.
 */
import { epsilonSpent } from '../../protocol/privacy.ts';

/** delta of every site's (epsilon, delta) guarantee: well below 1 / the number of shoppers of any shop. */
export const PRIVACY_DELTA = 1e-6;

export interface LedgerRow {
  round: number;
  mechanisms: number;
  noiseMultiplier: number;
  contributors: number;
  releasedAt: string;
}

export async function ledgerRows(db: D1Database, site: string): Promise<LedgerRow[]> {
  const { results } = await db
    .prepare('SELECT round, mechanisms, noise_multiplier, contributors, released_at FROM privacy_ledger WHERE site = ? ORDER BY round')
    .bind(site)
    .all<{ round: number; mechanisms: number; noise_multiplier: number; contributors: number; released_at: string }>();
  return results.map((r) => ({ round: r.round, mechanisms: r.mechanisms, noiseMultiplier: r.noise_multiplier, contributors: r.contributors, releasedAt: r.released_at }));
}

/** The noise multipliers of every mechanism in `rows`, one entry per mechanism. */
export function mechanismsOf(rows: readonly Pick<LedgerRow, 'mechanisms' | 'noiseMultiplier'>[]): number[] {
  return rows.flatMap((r) => new Array<number>(r.mechanisms).fill(r.noiseMultiplier));
}

export function spent(rows: readonly LedgerRow[]): number {
  return epsilonSpent(mechanismsOf(rows), PRIVACY_DELTA).epsilon;
}

/** Records a release once (a second read of the same round spends nothing more). */
export async function recordRelease(db: D1Database, site: string, row: Omit<LedgerRow, 'releasedAt'>): Promise<void> {
  await db
    .prepare('INSERT INTO privacy_ledger (site, round, mechanisms, noise_multiplier, contributors, released_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, round) DO NOTHING')
    .bind(site, row.round, row.mechanisms, row.noiseMultiplier, row.contributors, new Date().toISOString())
    .run();
}
