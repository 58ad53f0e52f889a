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
 *
 * The jobs live in their own modules: the round's terms (round-terms-table.ts), adding a report
 * and reading a shard's sums (round-accumulation.ts), the token key and signing (report-tokens.ts),
 * the noise and release (round-sums.ts); this class is the object's interface and their order.
 */
import { DurableObject } from 'cloudflare:workers';
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import type { Report } from '../../protocol/wire.ts';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';
import type { Env } from './env.ts';
import { accumulateReport, NOTHING, readShardSums } from './round-accumulation.ts';
import type { AddOutcome, CheckedModelParts, RoundName, RoundPlan, RoundStatus, RoundTerms } from './round-contract.ts';
import { mergeShards, noisedCounts, NO_SUMS, releaseOf } from './round-sums.ts';
import type { NoisedCounts, ReleaseShape, ShardSums } from './round-sums.ts';
import { migrateRoundStorage } from './round-storage-schema.ts';
import { fixShards, isOpen, markClosed, readShards, readTerms, writeTerms } from './round-terms-table.ts';
import type { StoredTerms } from './round-terms-table.ts';
import { roundObjectName } from './round-names.ts';
import { newTokenKey, tokenSigner } from './report-tokens.ts';
import type { SignAnswer, TokenKeyPair } from './report-tokens.ts';

export class RoundAggregator extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrateRoundStorage(ctx.storage);
  }

  /** Another shard of the same round (shard 0: its coordinator). */
  private sibling(site: string, round: number, shard: number): DurableObjectStub<RoundAggregator> {
    return this.env.ROUNDS.get(this.env.ROUNDS.idFromName(roundObjectName(site, round, shard)));
  }

  /** Records the round's terms at its first request (the noise the release gets is fixed by them), and its closing alarm. */
  private async fixTerms(terms: RoundTerms): Promise<StoredTerms> {
    const known = readTerms(this.ctx.storage.sql);
    if (known) return known;
    writeTerms(this.ctx.storage.sql, terms);
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
    fixShards(this.ctx.storage.sql, shards);
    return {
      shards: readShards(this.ctx.storage.sql),
      terms: { start: fixed.start, deadline: fixed.deadline, minCohort: fixed.minCohort, privacy: fixed.privacy },
      publicKey: (await this.tokenKey(null)).publicKey,
    };
  }

  /**
   * Adds a validated report once; refused once the round has closed. Its model parts (checked
   * by the worker against the model serving when it arrived) are summed when they are for the
   * same model as the round's earlier ones of the same kind, within the bounds the round began under.
   */
  async addReport(report: Report, terms: RoundTerms, parts: CheckedModelParts | null, tokenId: string): Promise<AddOutcome> {
    const known = await this.fixTerms(terms);
    if (!isOpen(known)) return { duplicate: false, closed: true, ...NOTHING };
    return this.ctx.storage.transactionSync(() => accumulateReport(this.ctx.storage.sql, report, known.privacy, parts, tokenId));
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
    if (!isOpen(known)) return { refused: 'the round has closed', closed: true };
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

  /** The deadline has come: the round takes no more reports. */
  override async alarm(): Promise<void> {
    markClosed(this.ctx.storage.sql);
  }

  /**
   * Closes the round at `at` instead of its deadline, every shard of it (`site`, `round` name the
   * shards; this object is shard 0). Only the test controls call this (test-controls.ts, absent
   * from the production build): tests close rounds by this call rather than by waiting out a
   * deadline on a machine of unknown speed. `terms` are the round's, for a shard no request reached.
   */
  async closeAt(site: string, round: number, terms: RoundTerms, at: number): Promise<void> {
    await this.closeShardAt(terms, at);
    await Promise.all(Array.from({ length: readShards(this.ctx.storage.sql) - 1 }, (_, i) => this.sibling(site, round, i + 1).closeShardAt(terms, at)));
  }

  /** This shard closed at `at` (the deadline moved there, so the round's window says when it really ended). */
  async closeShardAt(terms: RoundTerms, at: number): Promise<void> {
    await this.fixTerms(terms);
    markClosed(this.ctx.storage.sql, at);
    await this.ctx.storage.deleteAlarm();
  }

  /** This shard's exact sums once the round has closed (null while it is open): for the coordinator only. */
  shardSums(): ShardSums | null {
    const terms = readTerms(this.ctx.storage.sql);
    if (!terms) return NO_SUMS;
    return isOpen(terms) ? null : readShardSums(this.ctx.storage.sql);
  }

  /** The round's sums: every shard's added up (`site`, `round` name the shards; this object is shard 0). */
  private async roundSums(site: string, round: number, model: string | null): Promise<ShardSums> {
    const shards = readShards(this.ctx.storage.sql);
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
    const terms = readTerms(this.ctx.storage.sql) ?? { ...fallback, closed: false };
    const base = { minCohort: terms.minCohort, start: terms.start ?? fallback.start, deadline: terms.deadline };
    if (isOpen(terms)) return { status: 'open', ...base };
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
    if (isOpen(terms)) return this.status(fallback);
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
    const release = releaseOf(parts, counted, creativeIds, shape, readTerms(this.ctx.storage.sql)!.privacy);
    this.ctx.storage.sql.exec('INSERT INTO released (id, body) VALUES (1, ?)', JSON.stringify(release));
    return release;
  }
}
