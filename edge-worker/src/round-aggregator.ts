/**
 * The Durable Objects that hold one site's round: its shards (rounds.ts), the only places
 * the round's exact sums exist. Shard 0 is also the round's coordinator: it fixes the round's
 * terms and shard count at the round's first request, makes its token key, and at release adds
 * every shard's sums, counts them with noise and releases them noised.
 *
 * Durable Objects process one event at a time and SQLite storage writes are transactional, so
 * 200 concurrent reports to one shard add up exactly; a report goes to the shard its token
 * names, so its token is spent once across shards, and the report-id table makes a retried
 * report (the device never heard the acknowledgement; same id, same token) count once. A shard
 * closes at the round's deadline (an alarm), after which nothing is added. The sums leave the
 * coordinator only noised (the Gaussian mechanism, protocol/privacy.ts), only after the round
 * closed with at least minCohort reports by a noised count, and only once the worker has checked
 * the site's privacy budget.
 */
import { DurableObject } from 'cloudflare:workers';
import { DEFAULT_PRIVACY, l2Norm, withinBound } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { Report } from '../../protocol/wire.ts';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';
import type { Env } from './env.ts';
import { mergeShards, noisedCounts, NO_SUMS, releaseOf } from './round-sums.ts';
import type { CreativeTotals, NoisedCounts, ReleaseShape, ShardSums } from './round-sums.ts';
import { migrateRoundStorage } from './round-storage-schema.ts';
import { roundObjectName } from './round-names.ts';
import { newTokenKey, tokenSigner } from './report-tokens.ts';
import type { SignAnswer, TokenKeyPair } from './report-tokens.ts';

export type { CreativeTotals, ReleaseShape };

/** A site's round, as a shard names its coordinator (a stub cannot be passed between objects). */
export interface RoundName {
  site: string;
  round: number;
}

/** What the round's objects are told: the round's rules, from the site's settings when the round began. */
export interface RoundTerms {
  /** When the round began, ms since the epoch (null for a round object older than starts were stored). */
  start: number | null;
  /** When the round closes, ms since the epoch. */
  deadline: number;
  minCohort: number;
  privacy: PrivacyTerms;
}

/** A round's plan, fixed by its coordinator at the round's first request: what every shard and worker isolate uses all round. */
export interface RoundPlan {
  shards: number;
  terms: RoundTerms;
  /** The public part of the round's token key. */
  publicKey: Uint8Array;
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
  /** Offsets part entries: a key the site's catalog allows (site-store.ts offsetKeys), [clicks, expected]. */
  offsets?: { key: string; clicks: number; expected: number }[] | null;
}

/** The noised sums of a round, generated once at its first release and the same ever after (protocol/admin-answers.ts). */
export type { NoisedRelease };

/** Where a round stands: `contributors` (noised) only once it was counted. */
interface RoundTimes {
  minCohort: number;
  /** When the round began (null for an object older than stored starts) and closes, ms since the epoch. */
  start: number | null;
  deadline: number;
}
export type RoundStatus =
  | ({ status: 'open' } & RoundTimes)
  | ({ status: 'closed'; noiseMultiplier: number } & RoundTimes)
  | ({ status: 'below_cohort'; contributors: number } & RoundTimes)
  | ({ status: 'releasable'; contributors: number; noiseMultiplier: number } & RoundTimes)
  | ({ status: 'released'; contributors: number; release: NoisedRelease } & RoundTimes);

/** ignored_over_round_bound: the site's bound changed during the round and this part is over the bound the round's noise is for; not_collected: the site does not collect this part at its scale now (protocol/report-parts.ts). */
export type PartOutcome = 'counted' | 'ignored_other_model' | 'ignored_over_round_bound' | 'not_collected' | 'none';

export interface AddOutcome {
  duplicate: boolean;
  closed: boolean;
  /** The report's token was already spent by another report: nothing was added. */
  tokenSpent?: boolean;
  head: PartOutcome;
  ope: PartOutcome;
  towers: PartOutcome;
  offsets: PartOutcome;
}

const NOTHING: Omit<AddOutcome, 'duplicate' | 'closed'> = { head: 'none', ope: 'none', towers: 'none', offsets: 'none' };

export class RoundAggregator extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrateRoundStorage(ctx.storage);
  }

  /** Another shard of the same round (shard 0: its coordinator). */
  private sibling(site: string, round: number, shard: number): DurableObjectStub<RoundAggregator> {
    return this.env.ROUNDS.get(this.env.ROUNDS.idFromName(roundObjectName(site, round, shard)));
  }

  private terms(): (RoundTerms & { closed: boolean }) | null {
    const row = this.ctx.storage.sql
      .exec<{ starts_at: number | null; deadline: number; min_cohort: number; closed: number }>('SELECT starts_at, deadline, min_cohort, closed FROM terms')
      .toArray()[0];
    if (!row) return null;
    const p = this.ctx.storage.sql
      .exec<{ head_clip: number; count_clip: number; ope_clip: number; tower_clip: number; offset_clip: number; noise_multiplier: number }>(
        'SELECT head_clip, count_clip, ope_clip, tower_clip, offset_clip, noise_multiplier FROM privacy_terms',
      )
      .toArray()[0];
    const privacy: PrivacyTerms = p
      ? {
          headClip: p.head_clip,
          countClip: p.count_clip,
          opeClip: p.ope_clip,
          towerClip: p.tower_clip,
          offsetClip: p.offset_clip,
          noiseMultiplier: p.noise_multiplier,
        }
      : DEFAULT_PRIVACY;
    return { start: row.starts_at, deadline: row.deadline, minCohort: row.min_cohort, closed: row.closed === 1, privacy };
  }

  /** Records the round's terms at its first request (the noise the release gets is fixed by them), and its closing alarm. */
  private async fixTerms(terms: RoundTerms): Promise<RoundTerms & { closed: boolean }> {
    const known = this.terms();
    if (known) return known;
    this.ctx.storage.sql.exec('INSERT INTO terms (id, starts_at, deadline, min_cohort) VALUES (1, ?, ?, ?)', terms.start, terms.deadline, terms.minCohort);
    this.ctx.storage.sql.exec(
      'INSERT OR REPLACE INTO privacy_terms (id, head_clip, count_clip, ope_clip, tower_clip, offset_clip, noise_multiplier) VALUES (1, ?, ?, ?, ?, ?, ?)',
      terms.privacy.headClip,
      terms.privacy.countClip,
      terms.privacy.opeClip,
      terms.privacy.towerClip,
      terms.privacy.offsetClip,
      terms.privacy.noiseMultiplier,
    );
    await this.ctx.storage.setAlarm(terms.deadline);
    return { ...terms, closed: false };
  }

  /**
   * The coordinator's answer to a worker isolate's first request of the round: the round's shard
   * count, terms and token key, fixed by the first request of all (later ones get the same, so
   * a settings change mid-round applies from the next round).
   */
  async roundPlan(shards: number, terms: RoundTerms): Promise<RoundPlan> {
    const fixed = await this.fixTerms(terms);
    this.ctx.storage.sql.exec('INSERT OR IGNORE INTO plan (id, shards) VALUES (1, ?)', shards);
    return {
      shards: this.shards(),
      terms: { start: fixed.start, deadline: fixed.deadline, minCohort: fixed.minCohort, privacy: fixed.privacy },
      publicKey: (await this.tokenKey(null)).publicKey,
    };
  }

  /** The round's shard count (a coordinator's plan; 1 for a round no request reached). */
  private shards(): number {
    return this.ctx.storage.sql.exec<{ shards: number }>('SELECT shards FROM plan').toArray()[0]?.shards ?? 1;
  }

  /**
   * Adds a validated report once; refused once the round has closed. Its model parts (checked
   * by the worker against the model serving when it arrived) are summed when they are for the
   * same model as the round's earlier ones of the same kind.
   */
  async addReport(report: Report, terms: RoundTerms, parts: CheckedModelParts | null, tokenId: string): Promise<AddOutcome> {
    const known = await this.fixTerms(terms);
    if (known.closed || Date.now() >= known.deadline) return { duplicate: false, closed: true, ...NOTHING };
    const roundHeadClip = known.privacy.headClip;
    const roundOpeClip = known.privacy.opeClip;
    const roundOffsetClip = known.privacy.offsetClip;
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
      if (!parts)
        return {
          duplicate: false,
          closed: false,
          head: offered(report.head),
          ope: offered(report.ope),
          towers: offered(report.towers),
          offsets: offered(report.offsets),
        };
      return {
        duplicate: false,
        closed: false,
        // The route checked the head against the site's bound now; the release's noise is for
        // the bound the round began under, so a part above that one would be under-noised.
        head: parts.head
          ? withinBound(l2Norm(parts.head), roundHeadClip)
            ? this.addHead(parts.model, parts.head)
            : 'ignored_over_round_bound'
          : offered(report.head),
        ope: parts.ope
          ? withinBound(l2Norm(parts.ope.flatMap((e) => e.sums)), roundOpeClip)
            ? this.addOpe(parts.model, parts.ope)
            : 'ignored_over_round_bound'
          : offered(report.ope),
        towers: parts.towers ? this.addTowers(parts.model, parts.towers) : offered(report.towers),
        offsets: parts.offsets
          ? withinBound(l2Norm(parts.offsets.flatMap((e) => [e.clicks, e.expected])), roundOffsetClip)
            ? this.addOffsets(parts.model, parts.offsets)
            : 'ignored_over_round_bound'
          : offered(report.offsets),
      };
    });
  }

  /**
   * The round's token key. The coordinator (`coordinator` null) makes it at its first use; two
   * first requests at once may both make one: the first stored wins (INSERT OR IGNORE, then both
   * read it back), so every device of the round gets the same key (and no request waits behind
   * another's key generation). Another shard asks the coordinator once and keeps it.
   */
  private async tokenKey(coordinator: RoundName | null): Promise<TokenKeyPair> {
    const read = () =>
      this.ctx.storage.sql.exec<{ private_key: ArrayBuffer; public_key: ArrayBuffer }>('SELECT private_key, public_key FROM token_key').toArray()[0];
    let row = read();
    if (!row) {
      const key = coordinator ? await this.sibling(coordinator.site, coordinator.round, 0).tokenKeyPair() : await newTokenKey();
      this.ctx.storage.sql.exec('INSERT OR IGNORE INTO token_key (id, private_key, public_key) VALUES (1, ?, ?)', key.privateKey, key.publicKey);
      row = read()!;
    }
    return { privateKey: new Uint8Array(row.private_key), publicKey: new Uint8Array(row.public_key) };
  }

  /** The coordinator's token key, for its round's other shards to sign with (never leaves the round's objects). */
  async tokenKeyPair(): Promise<TokenKeyPair> {
    return this.tokenKey(null);
  }

  /** Signing with the round's key, made ready at the first request (tokenSigner). */
  private signer: Promise<(request: Uint8Array) => Promise<SignAnswer>> | null = null;

  /**
   * Signs a device's blinded token request, at most `perClient` times per client key (a salted
   * daily hash of its address, edge-worker/src/client-key.ts) in this round, and not once the
   * round has closed. A client's requests all go to one shard (rounds.ts shardOf), so its limit is
   * counted in one place; `coordinator` names the round, whose shard 0 holds its key (null when this is shard 0).
   */
  async issueToken(
    coordinator: RoundName | null,
    terms: RoundTerms,
    client: string,
    request: Uint8Array,
    perClient: number,
  ): Promise<{ response: Uint8Array } | { refused: string; limit?: true; closed?: true }> {
    const known = await this.fixTerms(terms);
    if (known.closed || Date.now() >= known.deadline) return { refused: 'the round has closed', closed: true };
    const issued = this.ctx.storage.sql.exec<{ issued: number }>('SELECT issued FROM token_issues WHERE client = ?', client).toArray()[0]?.issued ?? 0;
    if (issued >= perClient) return { refused: `this address has had its ${perClient} report tokens for this round`, limit: true };
    // Counted before signing, with no await between the check and the count: requests from one
    // address at once cannot all pass the check while the first one signs.
    this.ctx.storage.sql.exec('INSERT INTO token_issues (client, issued) VALUES (?, 1) ON CONFLICT (client) DO UPDATE SET issued = issued + 1', client);
    this.signer ??= this.tokenKey(coordinator).then(tokenSigner);
    this.signer.catch(() => (this.signer = null));
    const signed = await (await this.signer)(request);
    if ('refused' in signed) this.ctx.storage.sql.exec('UPDATE token_issues SET issued = issued - 1 WHERE client = ?', client);
    return signed;
  }

  private addHead(model: string, stats: number[]): PartOutcome {
    const row = this.ctx.storage.sql
      .exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums')
      .toArray()[0];
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
      this.ctx.storage.sql.exec(
        'INSERT OR REPLACE INTO ope_sums (model_version, logging_model, sums) VALUES (?, ?, ?)',
        e.modelVersion,
        model,
        JSON.stringify(sums),
      );
    }
    return 'counted';
  }

  /** Offsets, summed per key over one serving model's decisions (their expected clicks are its head's). */
  private addOffsets(model: string, entries: { key: string; clicks: number; expected: number }[]): PartOutcome {
    const row = this.ctx.storage.sql.exec<{ model_version: string }>('SELECT model_version FROM offset_reports').toArray()[0];
    if (row && row.model_version !== model) return 'ignored_other_model';
    if (!row) this.ctx.storage.sql.exec('INSERT INTO offset_reports (id, model_version, reports) VALUES (1, ?, 1)', model);
    else this.ctx.storage.sql.exec('UPDATE offset_reports SET reports = reports + 1 WHERE id = 1');
    for (const e of entries) {
      this.ctx.storage.sql.exec(
        `INSERT INTO offset_sums (key, clicks, expected) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET clicks = clicks + excluded.clicks, expected = expected + excluded.expected`,
        e.key,
        e.clicks,
        e.expected,
      );
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

  /** The deadline has come: the round takes no more reports. */
  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec('UPDATE terms SET closed = 1');
  }

  /**
   * Closes the round at `at` instead of its deadline, every shard of it (`site`, `round` name the
   * shards; this object is shard 0). Only the test controls call this (test-controls.ts, absent
   * from the production build): tests close rounds by this call rather than by waiting out a
   * deadline on a machine of unknown speed. `terms` are the round's, for a shard no request reached.
   */
  async closeAt(site: string, round: number, terms: RoundTerms, at: number): Promise<void> {
    await this.closeShardAt(terms, at);
    await Promise.all(Array.from({ length: this.shards() - 1 }, (_, i) => this.sibling(site, round, i + 1).closeShardAt(terms, at)));
  }

  /** This shard closed at `at` (the deadline moved there, so the round's window says when it really ended). */
  async closeShardAt(terms: RoundTerms, at: number): Promise<void> {
    await this.fixTerms(terms);
    this.ctx.storage.sql.exec('UPDATE terms SET closed = 1, deadline = MIN(deadline, ?)', at);
    await this.ctx.storage.deleteAlarm();
  }

  private isOpen(terms: { deadline: number; closed: boolean }): boolean {
    return !terms.closed && Date.now() < terms.deadline;
  }

  /** This shard's exact sums once the round has closed (null while it is open): for the coordinator only. */
  shardSums(): ShardSums | null {
    const terms = this.terms();
    if (!terms) return NO_SUMS;
    if (this.isOpen(terms)) return null;
    const sql = this.ctx.storage.sql;
    const head = sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
    const ope = sql.exec<{ logging_model: string; reports: number }>('SELECT logging_model, reports FROM ope_reports').toArray()[0];
    const towers = sql.exec<{ model_version: string; reports: number; sums: ArrayBuffer }>('SELECT model_version, reports, sums FROM tower_sums').toArray()[0];
    const offsets = sql.exec<{ model_version: string; reports: number }>('SELECT model_version, reports FROM offset_reports').toArray()[0];
    return {
      contributors: sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM reports').one().n,
      totals: sql
        .exec<{ creative_id: string; impressions: number; clicks: number; conversions: number; dismissals: number }>(
          'SELECT creative_id, impressions, clicks, conversions, dismissals FROM creative_totals',
        )
        .toArray()
        .map((r) => ({ creativeId: r.creative_id, impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, dismissals: r.dismissals })),
      head: head ? { model: head.model_version, reports: head.reports, stats: JSON.parse(head.stats) as number[] } : null,
      ope: ope
        ? {
            loggingModel: ope.logging_model,
            reports: ope.reports,
            models: sql
              .exec<{ model_version: string; sums: string }>('SELECT model_version, sums FROM ope_sums')
              .toArray()
              .map((m) => ({ modelVersion: m.model_version, sums: JSON.parse(m.sums) as number[] })),
          }
        : null,
      towers: towers ? { model: towers.model_version, reports: towers.reports, sums: new Float64Array(towers.sums.slice(0)) } : null,
      offsets: offsets
        ? {
            model: offsets.model_version,
            reports: offsets.reports,
            sums: sql
              .exec<{ key: string; clicks: number; expected: number }>('SELECT key, clicks, expected FROM offset_sums')
              .toArray()
              .map((r) => ({ key: r.key, clicks: r.clicks, expected: r.expected })),
          }
        : null,
    };
  }

  /** The round's sums: every shard's added up (`site`, `round` name the shards; this object is shard 0). */
  private async roundSums(site: string, round: number, model: string | null): Promise<ShardSums> {
    const shards = this.shards();
    const others = await Promise.all(Array.from({ length: shards - 1 }, (_, i) => this.sibling(site, round, i + 1).shardSums()));
    const all = [this.shardSums(), ...others];
    if (all.some((s) => s === null)) throw new Error(`round ${round} of site ${site}: a shard is still open after the deadline`);
    return mergeShards(all as ShardSums[], model);
  }

  private counted(): (NoisedCounts & { model: string | null }) | null {
    const row = this.ctx.storage.sql
      .exec<{ model: string | null; contributors: number; head: number; ope: number; towers: number }>(
        'SELECT model, contributors, head, ope, towers FROM noised_counts',
      )
      .toArray()[0];
    return row ? { model: row.model, contributors: row.contributors, head: row.head, ope: row.ope, towers: row.towers } : null;
  }

  /**
   * Where the round stands, without any exact count: open, closed (not counted yet), counted
   * below the cohort, counted and ready to release (which spends privacy budget: the worker
   * checks the site's ledger first), or released (with the noised sums, the same on every
   * read). `fallback` gives the terms of a round no request ever reached.
   */
  status(fallback: RoundTerms): RoundStatus {
    const terms = this.terms() ?? { ...fallback, closed: false };
    const base = { minCohort: terms.minCohort, start: terms.start ?? fallback.start, deadline: terms.deadline };
    if (this.isOpen(terms)) return { status: 'open', ...base };
    const counted = this.counted();
    if (!counted) return { status: 'closed', ...base, noiseMultiplier: terms.privacy.noiseMultiplier };
    const withCount = { ...base, contributors: counted.contributors };
    if (counted.contributors < terms.minCohort) return { status: 'below_cohort', ...withCount };
    const released = this.ctx.storage.sql.exec<{ body: string }>('SELECT body FROM released').toArray()[0];
    if (released) return { status: 'released', ...withCount, release: JSON.parse(released.body) as NoisedRelease };
    return { status: 'releasable', ...withCount, noiseMultiplier: terms.privacy.noiseMultiplier };
  }

  /**
   * Counts the closed round (once; the worker has charged the count vector to the ledger): adds
   * up the shards' sums over `model`'s parts (the serving model) and draws the noised count
   * vector the cohort check is made on. The same on every later call.
   */
  async count(site: string, round: number, fallback: RoundTerms, model: string | null): Promise<RoundStatus> {
    const terms = await this.fixTerms(fallback);
    if (this.isOpen(terms)) return this.status(fallback);
    if (!this.counted()) {
      const sums = await this.roundSums(site, round, model);
      // Nothing awaited between the check above and the write: a second count at once finds this one.
      if (!this.counted()) {
        const c = noisedCounts(sums, terms.privacy.noiseMultiplier);
        this.ctx.storage.sql.exec(
          'INSERT INTO noised_counts (id, model, contributors, head, ope, towers) VALUES (1, ?, ?, ?, ?, ?)',
          model,
          c.contributors,
          c.head,
          c.ope,
          c.towers,
        );
      }
    }
    return this.status(fallback);
  }

  /**
   * Releases the counted round, above the cohort: the shards' sums added up, noised (round-sums.ts
   * releaseOf) with the counts it was counted with. Generated once and stored: reading a release
   * again cannot average its noise away. The exact sums never leave the round's objects.
   */
  async releaseNoised(site: string, round: number, creativeIds: string[], shape: ReleaseShape | null): Promise<NoisedRelease | null> {
    const status = this.status({ start: null, deadline: Infinity, minCohort: Infinity, privacy: DEFAULT_PRIVACY });
    if (status.status === 'released') return status.release;
    if (status.status !== 'releasable') return null;
    const counted = this.counted()!;
    const sums = await this.roundSums(site, round, counted.model);
    const stored = this.ctx.storage.sql.exec<{ body: string }>('SELECT body FROM released').toArray()[0];
    if (stored) return JSON.parse(stored.body) as NoisedRelease;
    // Without a serving model no device part was accepted: the release is the counts alone.
    const parts = shape ? sums : { ...sums, head: null, ope: null, towers: null };
    const release = releaseOf(parts, counted, creativeIds, shape, this.terms()!.privacy);
    this.ctx.storage.sql.exec('INSERT INTO released (id, body) VALUES (1, ?)', JSON.stringify(release));
    return release;
  }
}
