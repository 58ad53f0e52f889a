/**
 * One Durable Object per (site, round): the only place a round's exact sums exist.
 *
 * Durable Objects process one event at a time and SQLite storage writes are transactional, so
 * 200 concurrent reports to one round add up exactly; the report-id table makes a retried
 * report (the device never heard the acknowledgement) count once. The round closes at its
 * deadline (an alarm), after which nothing is added. Its sums leave it only noised (the Gaussian
 * mechanism, protocol/privacy.ts), only after it closed with at least minCohort distinct
 * reports, and only once the worker has checked the site's privacy budget.
 */
import { DurableObject } from 'cloudflare:workers';
import { addGaussianNoise, DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { Report } from '../../protocol/wire.ts';
import type { Env } from './env.ts';

export interface CreativeTotals {
  creativeId: string;
  impressions: number;
  clicks: number;
  conversions: number;
}

/** What the round's object is told on every report: the round's rules, from the site's settings. */
export interface RoundTerms {
  /** When the round closes, ms since the epoch. */
  deadline: number;
  minCohort: number;
  privacy: PrivacyTerms;
}

/** The noised sums of a round, generated once at its first release and the same ever after. */
export interface NoisedRelease {
  contributors: number;
  totals: CreativeTotals[];
  /** Sum of the head statistics of `modelVersion` (packed as in ReportSchema), noised; null when no report carried any. */
  head: { modelVersion: string; reports: number; stats: number[] } | null;
  noise: { multiplier: number; countStd: number; headStd: number };
  /** Gaussian mechanisms this release is made of (what the privacy ledger composes). */
  mechanisms: number;
}

export type RoundStatus =
  | { status: 'open'; contributors: number; minCohort: number; deadline: number }
  | { status: 'below_cohort'; contributors: number; minCohort: number; deadline: number }
  | { status: 'releasable'; contributors: number; minCohort: number; deadline: number; noiseMultiplier: number }
  | { status: 'released'; contributors: number; minCohort: number; deadline: number; release: NoisedRelease };

export type HeadOutcome = 'counted' | 'ignored_other_model' | 'none';

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
      );
      CREATE TABLE IF NOT EXISTS privacy_terms (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        head_clip REAL NOT NULL,
        count_clip REAL NOT NULL,
        noise_multiplier REAL NOT NULL
      );
      CREATE TABLE IF NOT EXISTS head_sums (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        model_version TEXT NOT NULL,
        reports INTEGER NOT NULL,
        stats TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS released (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);`);
    // Objects created before conversions were counted get the column (SQLite has no ADD COLUMN IF NOT EXISTS).
    const columns = ctx.storage.sql.exec<{ name: string }>('PRAGMA table_info(creative_totals)').toArray();
    if (!columns.some((c) => c.name === 'conversions')) ctx.storage.sql.exec('ALTER TABLE creative_totals ADD COLUMN conversions INTEGER NOT NULL DEFAULT 0');
  }

  private terms(): (RoundTerms & { closed: boolean }) | null {
    const row = this.ctx.storage.sql.exec<{ deadline: number; min_cohort: number; closed: number }>('SELECT deadline, min_cohort, closed FROM terms').toArray()[0];
    if (!row) return null;
    const p = this.ctx.storage.sql.exec<{ head_clip: number; count_clip: number; noise_multiplier: number }>('SELECT head_clip, count_clip, noise_multiplier FROM privacy_terms').toArray()[0];
    return { deadline: row.deadline, minCohort: row.min_cohort, closed: row.closed === 1, privacy: p ? { headClip: p.head_clip, countClip: p.count_clip, noiseMultiplier: p.noise_multiplier } : DEFAULT_PRIVACY };
  }

  /**
   * Adds a validated report once; refused once the round has closed. Its head statistics are
   * summed when they are for `headModel` (the model serving when the report arrived, checked by
   * the worker) and for the same model as the round's earlier head statistics.
   */
  async addReport(report: Report, terms: RoundTerms, headModel: string | null): Promise<{ duplicate: boolean; closed: boolean; head: HeadOutcome }> {
    const known = this.terms();
    if (!known) {
      this.ctx.storage.sql.exec('INSERT INTO terms (id, deadline, min_cohort) VALUES (1, ?, ?)', terms.deadline, terms.minCohort);
      // The noise the release will get is fixed by the terms the round's first report came under.
      this.ctx.storage.sql.exec('INSERT OR REPLACE INTO privacy_terms (id, head_clip, count_clip, noise_multiplier) VALUES (1, ?, ?, ?)', terms.privacy.headClip, terms.privacy.countClip, terms.privacy.noiseMultiplier);
      await this.ctx.storage.setAlarm(terms.deadline);
    } else if (known.closed || Date.now() >= known.deadline) {
      return { duplicate: false, closed: true, head: 'none' };
    }
    return this.ctx.storage.transactionSync(() => {
      const seen = this.ctx.storage.sql.exec('SELECT 1 FROM reports WHERE id = ?', report.reportId).toArray();
      if (seen.length > 0) return { duplicate: true, closed: false, head: 'none' as HeadOutcome };
      this.ctx.storage.sql.exec('INSERT INTO reports (id) VALUES (?)', report.reportId);
      for (const o of report.outcomes) {
        this.ctx.storage.sql.exec(
          `INSERT INTO creative_totals (creative_id, impressions, clicks, conversions) VALUES (?, ?, ?, ?)
           ON CONFLICT (creative_id) DO UPDATE SET impressions = impressions + excluded.impressions, clicks = clicks + excluded.clicks,
             conversions = conversions + excluded.conversions`,
          o.creativeId,
          o.impressions,
          o.clicks,
          o.conversions,
        );
      }
      return { duplicate: false, closed: false, head: this.addHead(report, headModel) };
    });
  }

  private addHead(report: Report, headModel: string | null): HeadOutcome {
    if (!report.head) return 'none';
    if (headModel === null || report.modelVersion !== headModel) return 'ignored_other_model';
    const row = this.ctx.storage.sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
    if (!row) {
      this.ctx.storage.sql.exec('INSERT INTO head_sums (id, model_version, reports, stats) VALUES (1, ?, 1, ?)', headModel, JSON.stringify(report.head.stats));
      return 'counted';
    }
    const sums = JSON.parse(row.stats) as number[];
    if (row.model_version !== headModel || sums.length !== report.head.stats.length) return 'ignored_other_model';
    report.head.stats.forEach((x, i) => (sums[i]! += x));
    this.ctx.storage.sql.exec('UPDATE head_sums SET reports = reports + 1, stats = ? WHERE id = 1', JSON.stringify(sums));
    return 'counted';
  }

  /** The deadline has come: the round takes no more reports. */
  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec('UPDATE terms SET closed = 1');
  }

  private contributors(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM reports').one().n;
  }

  /**
   * Where the round stands, without any sum: open, closed below the cohort, closed and ready to
   * release (which spends privacy budget: the worker checks the site's ledger first), or
   * released (with the noised sums, the same on every read). `fallback` gives the terms of a
   * round no report ever reached.
   */
  status(fallback: Omit<RoundTerms, 'privacy'>): RoundStatus {
    const terms = this.terms() ?? { ...fallback, closed: false };
    const base = { contributors: this.contributors(), minCohort: terms.minCohort, deadline: terms.deadline };
    if (!terms.closed && Date.now() < terms.deadline) return { status: 'open', ...base };
    if (base.contributors < terms.minCohort) return { status: 'below_cohort', ...base };
    const released = this.ctx.storage.sql.exec<{ body: string }>('SELECT body FROM released').toArray()[0];
    if (released) return { status: 'released', ...base, release: JSON.parse(released.body) as NoisedRelease };
    return { status: 'releasable', ...base, noiseMultiplier: this.terms()!.privacy.noiseMultiplier };
  }

  /**
   * Releases the round: Gaussian noise calibrated to the clipping bounds on every per-creative
   * count (over `creativeIds`, the site's creatives, zeros included, so which creatives had any
   * report is not revealed) and on every head statistic. Generated once and stored: reading a
   * release again cannot average its noise away. The exact sums never leave this object.
   */
  releaseNoised(creativeIds: string[]): NoisedRelease | null {
    const status = this.status({ deadline: Infinity, minCohort: Infinity });
    if (status.status === 'released') return status.release;
    if (status.status !== 'releasable') return null;
    const privacy = this.terms()!.privacy;
    const z = privacy.noiseMultiplier;
    const exact = new Map(
      this.ctx.storage.sql
        .exec<{ creative_id: string; impressions: number; clicks: number; conversions: number }>('SELECT creative_id, impressions, clicks, conversions FROM creative_totals')
        .toArray()
        .map((r) => [r.creative_id, r]),
    );
    const ids = [...new Set(creativeIds)].sort();
    const counts = addGaussianNoise(ids.flatMap((id) => [exact.get(id)?.impressions ?? 0, exact.get(id)?.clicks ?? 0, exact.get(id)?.conversions ?? 0]), z * privacy.countClip);
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const totals = ids.map((creativeId, i) => ({ creativeId, impressions: round3(counts[3 * i]!), clicks: round3(counts[3 * i + 1]!), conversions: round3(counts[3 * i + 2]!) }));
    const headRow = this.ctx.storage.sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
    const head = headRow ? { modelVersion: headRow.model_version, reports: headRow.reports, stats: addGaussianNoise(JSON.parse(headRow.stats) as number[], z * privacy.headClip) } : null;
    const release: NoisedRelease = {
      contributors: status.contributors,
      totals,
      head,
      noise: { multiplier: z, countStd: z * privacy.countClip, headStd: z * privacy.headClip },
      mechanisms: head ? 2 : 1,
    };
    this.ctx.storage.sql.exec('INSERT INTO released (id, body) VALUES (1, ?)', JSON.stringify(release));
    return release;
  }
}
