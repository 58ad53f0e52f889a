/**
 * The per-site privacy ledger in D1: every counted or released round, when it started, and the
 * Gaussian mechanisms it was charged. The budget holds over time: the rounds that start within
 * any window of `budgetPeriodDays` together spend at most the site's budget, composed exactly
 * (protocol/gaussian-dp.ts). A release that would break that in any window is refused before
 * any noise is drawn.
 *
 * Why windows of real time and not numbered periods: periods numbered from the settings were
 * renumbered by the settings (lengthening the period 30 -> 31 days emptied the current period's
 * spend, and the budget could then be raised), and a round mapped to its period through the
 * current round length could be charged to a period 1,400 years away. A start time cannot move.
 *
 * Every mechanism is Gaussian, so a set of them is mu-GDP with mu^2 the sum of each one's
 * mechanisms / z^2: a window's spend is a sum, and the worst window a release would fall in is
 * found by sliding over the rows in time order.
 *
 * The check and the write are one step: a reservation writes the ledger row only if the site's
 * ledger head still holds the version the check read (an optimistic lock inside one D1 batch,
 * which D1 runs as one transaction), so two releases at the same moment cannot both pass on
 * the same spend; the one that lost reads the ledger again and checks again.
 */
import { DAY_MS, ROUND_MECHANISMS } from '../../protocol/budget-pacing.ts';
import { gdpEpsilon, gdpMuFor } from '../../protocol/gaussian-dp.ts';
import { PRIVACY_DELTA } from '../../protocol/privacy.ts';
import { HttpError } from './http-error.ts';
import type { SiteRow } from './site-store.ts';

export interface LedgerRow {
  round: number;
  /** When the round began, ms since the epoch: the time it is charged at. */
  start: number;
  mechanisms: number;
  noiseMultiplier: number;
  contributors: number;
  releasedAt: string;
}

/** A row's share of mu^2 (GDP composes by adding these). */
const mu2 = (r: Pick<LedgerRow, 'mechanisms' | 'noiseMultiplier'>) => r.mechanisms / (r.noiseMultiplier * r.noiseMultiplier);

/** Epsilon (at PRIVACY_DELTA) of a total mu^2; Infinity, never a wrapped or capped figure, when it is not finite. */
function epsilonOfMu2(total: number): number {
  return Number.isFinite(total) ? gdpEpsilon(Math.sqrt(total), PRIVACY_DELTA) : Number.POSITIVE_INFINITY;
}

/** Epsilon spent by `rows` (composed exactly). */
export function spent(rows: readonly Pick<LedgerRow, 'mechanisms' | 'noiseMultiplier'>[]): number {
  return epsilonOfMu2(rows.reduce((s, r) => s + mu2(r), 0));
}

export async function ledgerRows(db: D1Database, site: string): Promise<LedgerRow[]> {
  const { results } = await db
    .prepare(
      'SELECT round, round_start, mechanisms, noise_multiplier, contributors, released_at FROM privacy_ledger WHERE site = ? ORDER BY round_start, round',
    )
    .bind(site)
    .all<{ round: number; round_start: number; mechanisms: number; noise_multiplier: number; contributors: number; released_at: string }>();
  return results.map((r) => ({
    round: r.round,
    start: r.round_start,
    mechanisms: r.mechanisms,
    noiseMultiplier: r.noise_multiplier,
    contributors: r.contributors,
    releasedAt: r.released_at,
  }));
}

/** The rows that start within [from, from + days). */
export function inWindow<R extends Pick<LedgerRow, 'start'>>(rows: readonly R[], from: number, days: number): R[] {
  return rows.filter((r) => r.start >= from && r.start < from + days * DAY_MS);
}

/**
 * The window of `days` that spends the most among those holding time `at`, with `rows` in it:
 * every such window can slide right to start at a row's start (or at `at`) without losing a row,
 * so only those starts need trying.
 */
export function worstWindowAt(rows: readonly LedgerRow[], at: number, days: number): { from: number; mu2: number; epsilon: number } {
  const length = days * DAY_MS;
  const starts = [...new Set([at, ...rows.map((r) => r.start).filter((s) => s > at - length && s <= at)])];
  let worst = { from: at, mu2: 0 };
  for (const from of starts) {
    const total = inWindow(rows, from, days).reduce((s, r) => s + mu2(r), 0);
    if (total > worst.mu2 || Number.isNaN(total)) worst = { from, mu2: total };
  }
  return { ...worst, epsilon: epsilonOfMu2(worst.mu2) };
}

export interface Release {
  round: number;
  /** When the round began (its Durable Object's stored start). */
  start: number;
  /** What the round has cost once this step is taken: the count vector alone (COUNT_MECHANISMS), or with its sums. */
  mechanisms: number;
  noiseMultiplier: number;
  /** The noised contributor count (known once counted; 0 before). */
  contributors: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Reserves `release` in the ledger if every window of the site's period holding the round's
 * start stays within the budget: 403 `privacy_budget_exhausted` with the reason otherwise. A
 * round is charged in two steps (its count vector when it is counted, then its sums when released
 * above K): a round's row grows to what it has cost, and a step the row already covers spends
 * nothing more. Resolves with the spend of the worst window the round is in.
 */
export async function reserveRelease(db: D1Database, site: SiteRow, release: Release): Promise<{ epsilon: number }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const [rows, head] = await Promise.all([
      ledgerRows(db, site.id),
      db.prepare('SELECT version FROM privacy_ledger_heads WHERE site = ?').bind(site.id).first<{ version: string }>(),
    ]);
    const recorded = rows.find((r) => r.round === release.round);
    // Charged at the start it was first charged at (a round's start never moves; this keeps it so).
    const row: LedgerRow = { ...release, start: recorded?.start ?? release.start, releasedAt: iso(Date.now()) };
    if (recorded && recorded.mechanisms >= release.mechanisms - 1e-9) return { epsilon: worstWindowAt(rows, row.start, site.budgetPeriodDays).epsilon };
    const withIt = [...rows.filter((r) => r.round !== release.round), row];
    const worst = worstWindowAt(withIt, row.start, site.budgetPeriodDays);
    // Not finite counts as over: an accountant that cannot say what was spent must not say yes.
    if (!(worst.epsilon <= site.epsilonBudget)) {
      const frees = inWindow(withIt, worst.from, site.budgetPeriodDays).filter((r) => r.round !== release.round)[0];
      throw new HttpError(
        403,
        'privacy_budget_exhausted',
        `releasing round ${release.round} (begun ${iso(row.start)}) would bring site ${site.id} to epsilon ${worst.epsilon.toFixed(2)} (delta ${PRIVACY_DELTA}) ` +
          `over the ${site.budgetPeriodDays} days from ${iso(worst.from)}, past its budget of ${site.epsilonBudget}` +
          (frees ? `; that window's first spend (round ${frees.round}) leaves it at ${iso(frees.start + site.budgetPeriodDays * DAY_MS)}` : ''),
      );
    }
    const seen = head?.version ?? '';
    const version = crypto.randomUUID();
    const [, moved, written] = await db.batch([
      db.prepare("INSERT OR IGNORE INTO privacy_ledger_heads (site, version) VALUES (?, '')").bind(site.id),
      db.prepare('UPDATE privacy_ledger_heads SET version = ? WHERE site = ? AND version = ?').bind(version, site.id, seen),
      db
        .prepare(
          `INSERT INTO privacy_ledger (site, round, round_start, mechanisms, noise_multiplier, contributors, released_at)
           SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT version FROM privacy_ledger_heads WHERE site = ?) = ?
           ON CONFLICT (site, round) DO UPDATE SET mechanisms = excluded.mechanisms, contributors = excluded.contributors, released_at = excluded.released_at
             WHERE privacy_ledger.mechanisms < excluded.mechanisms`,
        )
        .bind(site.id, row.round, row.start, row.mechanisms, row.noiseMultiplier, row.contributors, row.releasedAt, site.id, version),
    ]);
    if (moved!.meta.changes === 1 && written!.meta.changes === 1) return { epsilon: worst.epsilon };
    // Another release moved the head first (or charged this very round): read and check again.
  }
  throw new HttpError(503, 'ledger_busy', `the privacy ledger of site ${site.id} kept changing while this release was checked; try again`);
}

/** The noised contributor count of a round charged before it was counted. */
export async function recordContributors(db: D1Database, site: string, round: number, contributors: number): Promise<void> {
  await db.prepare('UPDATE privacy_ledger SET contributors = ? WHERE site = ? AND round = ?').bind(contributors, site, round).run();
}

/**
 * Why `next` settings would loosen privacy while the site has spent anything in the last
 * max(old, new) period lengths, or null: the budget can then be lowered, never raised, and the
 * period lengthened, never shortened (a shorter window holds fewer of the rounds already charged).
 * The noise is not a loosening in itself: every release is checked against the budget, so less
 * noise only spends it sooner, and settings that would spend it before the period ends are
 * refused on their own (protocol/budget-pacing.ts).
 */
export function looserSettings(
  current: Pick<SiteRow, 'epsilonBudget' | 'budgetPeriodDays'>,
  next: { epsilonBudget: number; budgetPeriodDays: number },
  rows: readonly LedgerRow[],
  now = Date.now(),
): string | null {
  const days = Math.max(current.budgetPeriodDays, next.budgetPeriodDays);
  const recent = rows.filter((r) => r.start > now - days * DAY_MS);
  if (recent.length === 0) return null;
  const until = `the last ${days} days hold ${recent.length} charged rounds (epsilon ${spent(recent).toFixed(2)}); the earliest leaves that window at ${iso(recent[0]!.start + days * DAY_MS)}`;
  if (next.epsilonBudget > current.epsilonBudget)
    return `epsilonBudget can only be lowered while the budget is in use (${current.epsilonBudget} now, ${next.epsilonBudget} asked): ${until}`;
  if (next.budgetPeriodDays < current.budgetPeriodDays)
    return `budgetPeriodDays can only be lengthened while the budget is in use (${current.budgetPeriodDays} now, ${next.budgetPeriodDays} asked): ${until}`;
  return null;
}

export interface BudgetOutlook {
  /** Spent by the rounds that began in the last period, up to now. */
  epsilon: number;
  windowFrom: number;
  /** When the earliest spend of that window leaves it (null: nothing spent). */
  freesAt: number | null;
  /** Released rounds at the site's cost that still fit were they all made now. */
  roundsLeft: number;
  /** The start of the first coming round whose release would not fit, at one a round from the open one (null: none within the next period). */
  runsOutAt: number | null;
}

/**
 * What the budget allows from `now`, at one released round per round (ROUND_MECHANISMS at the
 * site's noise) from the open round's start: how many fit, and whether one would not fit within
 * the next period, and when. Every coming round starts after every charged one, so the worst
 * window holding it is the one that ends at its start: the projection slides that window forward.
 */
export function budgetOutlook(
  site: Pick<SiteRow, 'epsilonBudget' | 'budgetPeriodDays' | 'roundSeconds' | 'pacing'>,
  rows: readonly LedgerRow[],
  openStart: number,
  now: number,
): BudgetOutlook {
  const length = site.budgetPeriodDays * DAY_MS;
  const budget = gdpMuFor(site.epsilonBudget, PRIVACY_DELTA) ** 2 * (1 + 1e-12);
  const windowFrom = now - length;
  const recent = rows.filter((r) => r.start > windowFrom && r.start <= now);
  const used = recent.reduce((s, r) => s + mu2(r), 0);
  const cost = mu2({ mechanisms: ROUND_MECHANISMS, noiseMultiplier: site.pacing.noiseMultiplier });
  const outlook = (runsOutAt: number | null): BudgetOutlook => ({
    epsilon: epsilonOfMu2(used),
    windowFrom,
    freesAt: recent.length > 0 ? Math.min(...recent.map((r) => r.start)) + length : null,
    roundsLeft: Math.max(0, Math.floor((budget - used) / cost)),
    runsOutAt,
  });
  const step = site.roundSeconds * 1000;
  const lastCharged = rows.reduce((latest, r) => Math.max(latest, r.start), Number.NEGATIVE_INFINITY);
  const charged: LedgerRow[] = [...rows];
  let start = openStart;
  // A coming round that starts before a charged one (a round closed early): checked against every window it is in.
  for (; start <= lastCharged && start < now + length; start += step) {
    const coming = { round: -1, start, mechanisms: ROUND_MECHANISMS, noiseMultiplier: site.pacing.noiseMultiplier, contributors: 0, releasedAt: '' };
    charged.push(coming);
    if (!(worstWindowAt(charged, start, site.budgetPeriodDays).mu2 <= budget)) return outlook(start);
  }
  // Later ones start after every charged round: the worst window holding one ends at its start, so it slides.
  const timeline = charged.map((r) => ({ start: r.start, mu2: mu2(r) })).sort((a, b) => a.start - b.start);
  let first = 0;
  let inside = timeline.reduce((sum, r) => sum + r.mu2, 0);
  for (; start < now + length; start += step) {
    while (first < timeline.length && timeline[first]!.start <= start - length) inside -= timeline[first++]!.mu2;
    if (!(inside + cost <= budget)) return outlook(start);
    timeline.push({ start, mu2: cost });
    inside += cost;
  }
  return outlook(null);
}
