/**
 * One Durable Object per (site, round): the only place a round's exact sums exist.
 *
 * Durable Objects process one event at a time and SQLite storage writes are transactional, so
 * 200 concurrent reports to one round add up exactly; the report-id table makes a retried
 * report (the device never heard the acknowledgement) count once.
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

export class RoundAggregator extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS creative_totals (
        creative_id TEXT PRIMARY KEY,
        impressions INTEGER NOT NULL DEFAULT 0,
        clicks INTEGER NOT NULL DEFAULT 0
      );`);
  }

  /** Adds a validated report once. Returns whether it had been counted before. */
  addReport(report: Report): { duplicate: boolean } {
    return this.ctx.storage.transactionSync(() => {
      const seen = this.ctx.storage.sql.exec('SELECT 1 FROM reports WHERE id = ?', report.reportId).toArray();
      if (seen.length > 0) return { duplicate: true };
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
      return { duplicate: false };
    });
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
}
