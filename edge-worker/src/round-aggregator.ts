/**
 * One Durable Object per (site, round): the only place a round's exact sums exist.
 *
 * Durable Objects process one event at a time and SQLite storage writes are transactional, so
 * 200 concurrent reports to one round add up exactly; the report-id table makes a retried
 * report (the device never heard the acknowledgement) count once. The round closes at its
 * deadline (an alarm), after which nothing is added, and its sums are released only when at
 * least minCohort distinct reports contributed.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Report } from '../../protocol/wire.ts';
import type { Env } from './env.ts';

export interface CreativeTotals {
  creativeId: string;
  impressions: number;
  clicks: number;
}

export interface RoundSummary {
  contributors: number;
  totals: CreativeTotals[];
}

/** What the round's object is told on every report: the round's rules, from the site's settings. */
export interface RoundTerms {
  /** When the round closes, ms since the epoch. */
  deadline: number;
  minCohort: number;
}

export type RoundRelease =
  | { status: 'open'; contributors: number; minCohort: number; deadline: number }
  | { status: 'below_cohort'; contributors: number; minCohort: number; deadline: number }
  | { status: 'released'; contributors: number; minCohort: number; deadline: number; totals: CreativeTotals[] };

export class RoundAggregator extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS creative_totals (
        creative_id TEXT PRIMARY KEY,
        impressions INTEGER NOT NULL DEFAULT 0,
        clicks INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS terms (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        deadline INTEGER NOT NULL,
        min_cohort INTEGER NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0
      );`);
  }

  private terms(): (RoundTerms & { closed: boolean }) | null {
    const row = this.ctx.storage.sql.exec<{ deadline: number; min_cohort: number; closed: number }>('SELECT deadline, min_cohort, closed FROM terms').toArray()[0];
    return row ? { deadline: row.deadline, minCohort: row.min_cohort, closed: row.closed === 1 } : null;
  }

  /** Adds a validated report once. Refused once the round has closed. */
  async addReport(report: Report, terms: RoundTerms): Promise<{ duplicate: boolean; closed: boolean }> {
    const known = this.terms();
    if (!known) {
      // First report of the round: remember its terms and wake up at the deadline to close it.
      this.ctx.storage.sql.exec('INSERT INTO terms (id, deadline, min_cohort) VALUES (1, ?, ?)', terms.deadline, terms.minCohort);
      await this.ctx.storage.setAlarm(terms.deadline);
    } else if (known.closed || Date.now() >= known.deadline) {
      return { duplicate: false, closed: true };
    }
    return this.ctx.storage.transactionSync(() => {
      const seen = this.ctx.storage.sql.exec('SELECT 1 FROM reports WHERE id = ?', report.reportId).toArray();
      if (seen.length > 0) return { duplicate: true, closed: false };
      this.ctx.storage.sql.exec('INSERT INTO reports (id) VALUES (?)', report.reportId);
      for (const o of report.outcomes) {
        this.ctx.storage.sql.exec(
          `INSERT INTO creative_totals (creative_id, impressions, clicks) VALUES (?, ?, ?)
           ON CONFLICT (creative_id) DO UPDATE SET impressions = impressions + excluded.impressions, clicks = clicks + excluded.clicks`,
          o.creativeId,
          o.impressions,
          o.clicks,
        );
      }
      return { duplicate: false, closed: false };
    });
  }

  /** The deadline has come: the round takes no more reports. */
  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec('UPDATE terms SET closed = 1');
  }

  summary(): RoundSummary {
    const contributors = this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM reports').one().n;
    const totals = this.ctx.storage.sql
      .exec<{ creative_id: string; impressions: number; clicks: number }>(
        'SELECT creative_id, impressions, clicks FROM creative_totals ORDER BY creative_id',
      )
      .toArray()
      .map((r) => ({ creativeId: r.creative_id, impressions: r.impressions, clicks: r.clicks }));
    return { contributors, totals };
  }

  /**
   * The round's result as released to its site's admin: nothing while it is open, nothing when
   * fewer than minCohort reports contributed, the sums otherwise. `fallback` gives the terms of a
   * round no report ever reached.
   */
  release(fallback: RoundTerms): RoundRelease {
    const terms = this.terms() ?? { ...fallback, closed: false };
    const { contributors, totals } = this.summary();
    const base = { contributors, minCohort: terms.minCohort, deadline: terms.deadline };
    if (!terms.closed && Date.now() < terms.deadline) return { status: 'open', ...base };
    if (contributors < terms.minCohort) return { status: 'below_cohort', ...base };
    return { status: 'released', ...base, totals };
  }
}
