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
import { DEFAULT_PRIVACY, l2Norm } from '../../protocol/privacy.ts';
import { OPE_SUMS } from '../../protocol/off-policy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { Report } from '../../protocol/wire.ts';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';
import type { Env } from './env.ts';
import { noisedRelease } from './release-noise.ts';
import { newTokenKey, tokenSigner } from './report-tokens.ts';
import type { SignAnswer, TokenKeyPair } from './report-tokens.ts';

export interface CreativeTotals {
  creativeId: string;
  impressions: number;
  clicks: number;
  conversions: number;
  /** "Not interested" from shoppers. */
  dismissals: number;
}

/** What the round's object is told on every report: the round's rules, from the site's settings. */
export interface RoundTerms {
  /** When the round closes, ms since the epoch. */
  deadline: number;
  minCohort: number;
  privacy: PrivacyTerms;
}

/**
 * The model parts of a report the worker has checked (shape and clipping bounds) against the
 * model serving when it arrived, `model`: what the object may add to the round's sums.
 */
export interface CheckedModelParts {
  model: string;
  head: number[] | null;
  ope: { modelVersion: string; sums: number[] }[] | null;
  towers: Float64Array | null;
}

/** The noised sums of a round, generated once at its first release and the same ever after (protocol/admin-answers.ts). */
export type { NoisedRelease };

/**
 * The fixed shape of a site's releases while a model serves: its version, the length of its head
 * statistics, its tower weights, and the models off-policy sums are listed for (it and its
 * candidates).
 */
export interface ReleaseShape {
  model: string;
  headLength: number;
  towerParameters: number;
  opeModels: string[];
}

export type RoundStatus =
  | { status: 'open'; contributors: number; minCohort: number; deadline: number }
  | { status: 'below_cohort'; contributors: number; minCohort: number; deadline: number }
  | { status: 'releasable'; contributors: number; minCohort: number; deadline: number; noiseMultiplier: number; mechanisms: number }
  | { status: 'released'; contributors: number; minCohort: number; deadline: number; release: NoisedRelease };

/** ignored_over_round_bound: the site's bound changed during the round and this part is over the bound the round's noise is for. */
export type PartOutcome = 'counted' | 'ignored_other_model' | 'ignored_over_round_bound' | 'none';

export interface AddOutcome {
  duplicate: boolean;
  closed: boolean;
  /** The report's token was already spent by another report: nothing was added. */
  tokenSpent?: boolean;
  head: PartOutcome;
  ope: PartOutcome;
  towers: PartOutcome;
}

const NOTHING: Omit<AddOutcome, 'duplicate' | 'closed'> = { head: 'none', ope: 'none', towers: 'none' };

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
      CREATE TABLE IF NOT EXISTS ope_sums (
        model_version TEXT PRIMARY KEY,
        logging_model TEXT NOT NULL,
        sums TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ope_reports (id INTEGER PRIMARY KEY CHECK (id = 1), logging_model TEXT NOT NULL, reports INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS tower_sums (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        model_version TEXT NOT NULL,
        reports INTEGER NOT NULL,
        sums BLOB NOT NULL
      );
      CREATE TABLE IF NOT EXISTS released (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS token_key (id INTEGER PRIMARY KEY CHECK (id = 1), private_key BLOB NOT NULL, public_key BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS token_issues (client TEXT PRIMARY KEY, issued INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS spent_tokens (id TEXT PRIMARY KEY);`);
    // Objects created by earlier versions get the newer columns (SQLite has no ADD COLUMN IF NOT EXISTS).
    const columns = (table: string) => ctx.storage.sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().map((c) => c.name);
    const totalsColumns = columns('creative_totals');
    if (!totalsColumns.includes('conversions')) ctx.storage.sql.exec('ALTER TABLE creative_totals ADD COLUMN conversions INTEGER NOT NULL DEFAULT 0');
    if (!totalsColumns.includes('dismissals')) ctx.storage.sql.exec('ALTER TABLE creative_totals ADD COLUMN dismissals INTEGER NOT NULL DEFAULT 0');
    const privacyColumns = columns('privacy_terms');
    if (!privacyColumns.includes('ope_clip')) ctx.storage.sql.exec(`ALTER TABLE privacy_terms ADD COLUMN ope_clip REAL NOT NULL DEFAULT ${DEFAULT_PRIVACY.opeClip}`);
    if (!privacyColumns.includes('tower_clip')) ctx.storage.sql.exec(`ALTER TABLE privacy_terms ADD COLUMN tower_clip REAL NOT NULL DEFAULT ${DEFAULT_PRIVACY.towerClip}`);
  }

  private terms(): (RoundTerms & { closed: boolean }) | null {
    const row = this.ctx.storage.sql.exec<{ deadline: number; min_cohort: number; closed: number }>('SELECT deadline, min_cohort, closed FROM terms').toArray()[0];
    if (!row) return null;
    const p = this.ctx.storage.sql
      .exec<{ head_clip: number; count_clip: number; ope_clip: number; tower_clip: number; noise_multiplier: number }>('SELECT head_clip, count_clip, ope_clip, tower_clip, noise_multiplier FROM privacy_terms')
      .toArray()[0];
    const privacy = p ? { headClip: p.head_clip, countClip: p.count_clip, opeClip: p.ope_clip, towerClip: p.tower_clip, noiseMultiplier: p.noise_multiplier } : DEFAULT_PRIVACY;
    return { deadline: row.deadline, minCohort: row.min_cohort, closed: row.closed === 1, privacy };
  }

  /**
   * Adds a validated report once; refused once the round has closed. Its model parts (checked
   * by the worker against the model serving when it arrived) are summed when they are for the
   * same model as the round's earlier ones of the same kind.
   */
  async addReport(report: Report, terms: RoundTerms, parts: CheckedModelParts | null, tokenId: string): Promise<AddOutcome> {
    const known = this.terms();
    if (!known) {
      this.ctx.storage.sql.exec('INSERT INTO terms (id, deadline, min_cohort) VALUES (1, ?, ?)', terms.deadline, terms.minCohort);
      // The noise the release will get is fixed by the terms the round's first report came under.
      this.ctx.storage.sql.exec(
        'INSERT OR REPLACE INTO privacy_terms (id, head_clip, count_clip, ope_clip, tower_clip, noise_multiplier) VALUES (1, ?, ?, ?, ?, ?)',
        terms.privacy.headClip,
        terms.privacy.countClip,
        terms.privacy.opeClip,
        terms.privacy.towerClip,
        terms.privacy.noiseMultiplier,
      );
      await this.ctx.storage.setAlarm(terms.deadline);
    } else if (known.closed || Date.now() >= known.deadline) {
      return { duplicate: false, closed: true, ...NOTHING };
    }
    const roundHeadClip = known?.privacy.headClip ?? terms.privacy.headClip;
    return this.ctx.storage.transactionSync((): AddOutcome => {
      const seen = this.ctx.storage.sql.exec('SELECT 1 FROM reports WHERE id = ?', report.reportId).toArray();
      if (seen.length > 0) return { duplicate: true, closed: false, ...NOTHING };
      // A retry of a report (same id, same token) was answered above; a new report with a spent
      // token is a second report from one device's one token: refused, nothing added.
      const spent = this.ctx.storage.sql.exec('SELECT 1 FROM spent_tokens WHERE id = ?', tokenId).toArray();
      if (spent.length > 0) return { duplicate: false, closed: false, tokenSpent: true, ...NOTHING };
      this.ctx.storage.sql.exec('INSERT INTO spent_tokens (id) VALUES (?)', tokenId);
      this.ctx.storage.sql.exec('INSERT INTO reports (id) VALUES (?)', report.reportId);
      for (const o of report.outcomes) {
        this.ctx.storage.sql.exec(
          `INSERT INTO creative_totals (creative_id, impressions, clicks, conversions, dismissals) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (creative_id) DO UPDATE SET impressions = impressions + excluded.impressions, clicks = clicks + excluded.clicks,
             conversions = conversions + excluded.conversions, dismissals = dismissals + excluded.dismissals`,
          o.creativeId,
          o.impressions,
          o.clicks,
          o.conversions,
          o.dismissals,
        );
      }
      const offered = (part: unknown): PartOutcome => (part ? 'ignored_other_model' : 'none');
      if (!parts) return { duplicate: false, closed: false, head: offered(report.head), ope: offered(report.ope), towers: offered(report.towers) };
      return {
        duplicate: false,
        closed: false,
        // The route checked the head against the site's bound now; the release's noise is for
        // the bound the round began under, so a part above that one would be under-noised.
        head: parts.head ? (l2Norm(parts.head) <= roundHeadClip * (1 + 1e-9) ? this.addHead(parts.model, parts.head) : 'ignored_over_round_bound') : offered(report.head),
        ope: parts.ope ? this.addOpe(parts.model, parts.ope) : offered(report.ope),
        towers: parts.towers ? this.addTowers(parts.model, parts.towers) : offered(report.towers),
      };
    });
  }

  /**
   * The round's token key, made at its first use. Two first requests at once may both make one:
   * the first stored wins (INSERT OR IGNORE, then both read it back), so every device of the
   * round gets the same key (and no request waits behind another's key generation).
   */
  private async tokenKey(): Promise<TokenKeyPair> {
    const read = () => this.ctx.storage.sql.exec<{ private_key: ArrayBuffer; public_key: ArrayBuffer }>('SELECT private_key, public_key FROM token_key').toArray()[0];
    let row = read();
    if (!row) {
      const key = await newTokenKey();
      this.ctx.storage.sql.exec('INSERT OR IGNORE INTO token_key (id, private_key, public_key) VALUES (1, ?, ?)', key.privateKey, key.publicKey);
      row = read()!;
    }
    return { privateKey: new Uint8Array(row.private_key), publicKey: new Uint8Array(row.public_key) };
  }

  /** Signing with the round's key, made ready at the first request (tokenSigner). */
  private signer: Promise<(request: string) => Promise<SignAnswer>> | null = null;

  /** The public part of the round's token key (the same for every device: RFC 9578's key consistency). */
  async tokenPublicKey(): Promise<Uint8Array> {
    return (await this.tokenKey()).publicKey;
  }

  /**
   * Signs a device's blinded token request, at most `perClient` times per client key (a salted
   * daily hash of its address, edge-worker/src/client-key.ts) in this round, and not once the
   * round has closed.
   */
  async issueToken(client: string, request: string, perClient: number, deadline: number): Promise<{ response: string } | { refused: string; limit?: true; closed?: true }> {
    const known = this.terms();
    if ((known?.closed ?? false) || Date.now() >= (known?.deadline ?? deadline)) return { refused: 'the round has closed', closed: true };
    const issued = this.ctx.storage.sql.exec<{ issued: number }>('SELECT issued FROM token_issues WHERE client = ?', client).toArray()[0]?.issued ?? 0;
    if (issued >= perClient) return { refused: `this address has had its ${perClient} report tokens for this round`, limit: true };
    // Counted before signing, with no await between the check and the count: requests from one
    // address at once cannot all pass the check while the first one signs.
    this.ctx.storage.sql.exec('INSERT INTO token_issues (client, issued) VALUES (?, 1) ON CONFLICT (client) DO UPDATE SET issued = issued + 1', client);
    this.signer ??= this.tokenKey().then(tokenSigner);
    const signed = await (await this.signer)(request);
    if ('refused' in signed) this.ctx.storage.sql.exec('UPDATE token_issues SET issued = issued - 1 WHERE client = ?', client);
    return signed;
  }

  private addHead(model: string, stats: number[]): PartOutcome {
    const row = this.ctx.storage.sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
    if (!row) {
      this.ctx.storage.sql.exec('INSERT INTO head_sums (id, model_version, reports, stats) VALUES (1, ?, 1, ?)', model, JSON.stringify(stats));
      return 'counted';
    }
    const sums = JSON.parse(row.stats) as number[];
    if (row.model_version !== model || sums.length !== stats.length) return 'ignored_other_model';
    stats.forEach((x, i) => (sums[i]! += x));
    this.ctx.storage.sql.exec('UPDATE head_sums SET reports = reports + 1, stats = ? WHERE id = 1', JSON.stringify(sums));
    return 'counted';
  }

  /** Off-policy sums are pooled only over decisions of one logging (serving) model per round. */
  private addOpe(model: string, entries: { modelVersion: string; sums: number[] }[]): PartOutcome {
    const row = this.ctx.storage.sql.exec<{ logging_model: string }>('SELECT logging_model FROM ope_reports').toArray()[0];
    if (row && row.logging_model !== model) return 'ignored_other_model';
    if (!row) this.ctx.storage.sql.exec('INSERT INTO ope_reports (id, logging_model, reports) VALUES (1, ?, 1)', model);
    else this.ctx.storage.sql.exec('UPDATE ope_reports SET reports = reports + 1 WHERE id = 1');
    for (const e of entries) {
      const existing = this.ctx.storage.sql.exec<{ sums: string }>('SELECT sums FROM ope_sums WHERE model_version = ?', e.modelVersion).toArray()[0];
      const sums = existing ? (JSON.parse(existing.sums) as number[]) : new Array<number>(e.sums.length).fill(0);
      e.sums.forEach((x, i) => (sums[i]! += x));
      this.ctx.storage.sql.exec('INSERT OR REPLACE INTO ope_sums (model_version, logging_model, sums) VALUES (?, ?, ?)', e.modelVersion, model, JSON.stringify(sums));
    }
    return 'counted';
  }

  /** Tower gradients, summed as float64 in a BLOB (6,240 numbers: JSON would be the slow part). */
  private addTowers(model: string, gradient: Float64Array): PartOutcome {
    const row = this.ctx.storage.sql.exec<{ model_version: string; sums: ArrayBuffer }>('SELECT model_version, sums FROM tower_sums').toArray()[0];
    if (!row) {
      this.ctx.storage.sql.exec('INSERT INTO tower_sums (id, model_version, reports, sums) VALUES (1, ?, 1, ?)', model, gradient.slice().buffer);
      return 'counted';
    }
    const sums = new Float64Array(row.sums.slice(0));
    if (row.model_version !== model || sums.length !== gradient.length) return 'ignored_other_model';
    for (let i = 0; i < sums.length; i++) sums[i]! += gradient[i]!;
    this.ctx.storage.sql.exec('UPDATE tower_sums SET reports = reports + 1, sums = ? WHERE id = 1', sums.buffer);
    return 'counted';
  }

  /** The Gaussian mechanisms a release of the round's current sums is made of: counts, and each model part present. */
  private mechanisms(): number {
    const has = (table: string) => this.ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n > 0;
    return 1 + Number(has('head_sums')) + Number(has('ope_sums')) + Number(has('tower_sums'));
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
    return { status: 'releasable', ...base, noiseMultiplier: this.terms()!.privacy.noiseMultiplier, mechanisms: this.mechanisms() };
  }

  /**
   * Releases the round: Gaussian noise calibrated to the clipping bounds on every per-creative
   * count (over `creativeIds`, the site's creatives, zeros included, so which creatives had any
   * report is not revealed) and on every model part. The release has a fixed shape: with a
   * serving model (`shape`), every part is released, zeros plus noise where no device sent one,
   * so a release does not tell whether any device sent a head, off-policy sums or a gradient, nor
   * which candidate models had decisions; and every part is charged. Generated once and stored:
   * reading a release again cannot average its noise away. The exact sums never leave this object.
   */
  releaseNoised(creativeIds: string[], shape: ReleaseShape | null = null): NoisedRelease | null {
    const status = this.status({ deadline: Infinity, minCohort: Infinity });
    if (status.status === 'released') return status.release;
    if (status.status !== 'releasable') return null;
    const privacy = this.terms()!.privacy;
    const z = privacy.noiseMultiplier;
    const exact = new Map(
      this.ctx.storage.sql
        .exec<{ creative_id: string; impressions: number; clicks: number; conversions: number; dismissals: number }>('SELECT creative_id, impressions, clicks, conversions, dismissals FROM creative_totals')
        .toArray()
        .map((r) => [r.creative_id, r]),
    );
    const ids = [...new Set(creativeIds)].sort();
    const row = (id: string) => exact.get(id) ?? { impressions: 0, clicks: 0, conversions: 0, dismissals: 0 };
    const storedHead = this.ctx.storage.sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
    const storedOpe = this.ctx.storage.sql.exec<{ logging_model: string; reports: number }>('SELECT logging_model, reports FROM ope_reports').toArray()[0];
    const opeSums = new Map(this.ctx.storage.sql.exec<{ model_version: string; sums: string }>('SELECT model_version, sums FROM ope_sums').toArray().map((m) => [m.model_version, JSON.parse(m.sums) as number[]]));
    const storedTowers = this.ctx.storage.sql.exec<{ model_version: string; reports: number; sums: ArrayBuffer }>('SELECT model_version, reports, sums FROM tower_sums').toArray()[0];
    // Each part: what devices sent, or (with a serving model) zeros of its shape.
    const headRow = storedHead
      ? { model_version: storedHead.model_version, reports: storedHead.reports, stats: JSON.parse(storedHead.stats) as number[] }
      : shape && { model_version: shape.model, reports: 0, stats: new Array<number>(shape.headLength).fill(0) };
    const opeRow = storedOpe ?? (shape && { logging_model: shape.model, reports: 0 });
    // The models listed: the serving model and its candidates when they logged the round (a fixed
    // list, zeros for a model nothing was reported for); otherwise what was reported.
    const opeModels = !opeRow ? [] : shape && opeRow.logging_model === shape.model ? [...shape.opeModels].sort() : [...opeSums.keys()].sort();
    const towerRow = storedTowers
      ? { model_version: storedTowers.model_version, reports: storedTowers.reports, sums: new Float64Array(storedTowers.sums.slice(0)) }
      : shape && { model_version: shape.model, reports: 0, sums: new Float64Array(shape.towerParameters) };
    // The noise, all of it drawn here at once (release-noise.ts: discrete for counts, snapped for reals).
    const noised = noisedRelease(
      {
        counts: ids.flatMap((id) => [row(id).impressions, row(id).clicks, row(id).conversions, row(id).dismissals]),
        head: headRow ? headRow.stats : null,
        ope: opeModels.map((m) => opeSums.get(m) ?? new Array<number>(OPE_SUMS).fill(0)),
        towers: towerRow ? towerRow.sums : null,
      },
      privacy,
    );
    const totals = ids.map((creativeId, i) => ({
      creativeId,
      impressions: noised.counts[4 * i]!,
      clicks: noised.counts[4 * i + 1]!,
      conversions: noised.counts[4 * i + 2]!,
      dismissals: noised.counts[4 * i + 3]!,
    }));
    const head = headRow ? { modelVersion: headRow.model_version, reports: headRow.reports, stats: noised.head! } : null;
    const ope = opeRow && opeModels.length > 0 ? { modelVersion: opeRow.logging_model, reports: opeRow.reports, models: opeModels.map((m, i) => ({ modelVersion: m, sums: noised.ope[i]! })) } : null;
    const towers = towerRow ? { modelVersion: towerRow.model_version, reports: towerRow.reports, sums: noised.towers! } : null;
    const release: NoisedRelease = {
      contributors: status.contributors,
      totals,
      head,
      ope,
      towers,
      noise: { multiplier: z, countStd: z * privacy.countClip, headStd: z * privacy.headClip, opeStd: z * privacy.opeClip, towerStd: z * privacy.towerClip },
      mechanisms: 1 + Number(head !== null) + Number(ope !== null) + Number(towers !== null),
    };
    this.ctx.storage.sql.exec('INSERT INTO released (id, body) VALUES (1, ?)', JSON.stringify(release));
    return release;
  }
}
