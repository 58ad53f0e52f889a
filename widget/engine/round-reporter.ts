/**
 * The engine's reporting half: this round's report, made from the outcomes not yet reported
 * (report-outbox.ts), the round's report token (obtained once per round and device), sending
 * what earlier pages left in the outbox, and what each answer of the edge does to the outbox.
 * The page sends the report it is handed (it may be leaving); the engine sends the rest.
 */
import type { DeviceDB, OutboxEntry } from './device-store.ts';
import type { PreparedReport } from './engine-api.ts';
import { moveOutcomesToOutbox, outboxAction } from './report-outbox.ts';
import { obtainReportToken } from './report-token-client.ts';
import { postReport } from './post-report.ts';
import type { Serving } from './serving-state.ts';

/** After the page's first decision, before the token's blinding (EngineStartOptions.reportTokenDelayMs). */
const REPORT_TOKEN_DELAY_MS = 3000;

/** How long a report waits for the round's token being obtained (about 100 ms; the first of a round also waits for its key to be made). */
const TOKEN_WAIT_MS = 15_000;

export class RoundReporter {
  /** Report tokens held, by round (also stored: a later page spends what this one obtained). */
  private tokens = new Map<number, string>();
  /** Rounds the edge will not give this device a token for (its address's allowance is used up). */
  private tokenRefused = new Set<number>();
  /** The open round's token being obtained as the engine started (null when none is). */
  private tokenFetch: Promise<string | null> = Promise.resolve(null);
  /** The start's outbox pass, which close() waits for (it uses the database). */
  private retrying: Promise<void> = Promise.resolve();
  private readonly tokenDelayMs: number;

  /**
   * `db` and `serving` are read at each use: the engine drops its database when the shopper asks
   * to forget (nothing is stored from then on) and its models when it closes.
   */
  constructor(
    private readonly edge: string,
    private readonly site: string,
    private readonly db: () => DeviceDB | null,
    private readonly serving: () => Serving | null,
    private readonly firstDecision: Promise<void>,
    tokenDelayMs = REPORT_TOKEN_DELAY_MS,
  ) {
    this.tokenDelayMs = tokenDelayMs;
  }

  /**
   * Starts the outbox pass (the round's token, then earlier pages' reports). The token's promise
   * is set here, at once: a report prepared while the pass is still reading the outbox waits for
   * the token the pass will obtain, not for an empty promise of the engine's start.
   */
  start(): void {
    const pass = this.readOutbox();
    this.tokenFetch = pass.then((p) => p?.token ?? null).catch(() => null);
    this.retrying = pass
      .then((p) => (p ? this.sendEarlier(p.round, p.earlier) : undefined))
      .catch((e: unknown) => console.warn('[vitrine] could not retry stored reports:', e));
  }

  /** Resolves when the start's outbox pass is over. */
  settled(): Promise<void> {
    return this.retrying;
  }

  /**
   * Makes this round's report (once per round) and hands it to the page to send, with the
   * round's token. Without a token yet (the engine is still obtaining it) the report waits in
   * the outbox, and the engine sends it once the token is there.
   */
  async prepare(): Promise<PreparedReport | null> {
    if (!this.db() || !this.serving()) return null;
    const entry = await this.make();
    if (!entry) return null;
    // The token the engine is obtaining as this page began: worth a short wait (a click's report
    // goes from the page, which may be leaving), not a long one (the engine sends it later).
    if (!this.tokens.has(entry.report.round)) await Promise.race([this.tokenFetch, new Promise<null>((done) => setTimeout(() => done(null), TOKEN_WAIT_MS))]);
    const token = this.tokens.get(entry.report.round);
    return token ? { reportId: entry.reportId, url: this.url(), report: { ...entry.report, token } } : null;
  }

  /** This round's report of the outcomes not yet reported, into the outbox (null: none, or the round has its report). */
  private async make(): Promise<OutboxEntry | null> {
    const db = this.db();
    const serving = this.serving();
    if (!db || !serving) return null;
    const { config } = serving;
    return moveOutcomesToOutbox(db, config.round.id, serving.model, config.privacy, Date.now(), config.attributionDays + 1, config.parts);
  }

  /**
   * The round's report token: held, or obtained from the edge (once per round and device; the
   * edge gives an address a limited number per round, so a refusal is not asked again).
   */
  private async token(round: number, heldOnly = false): Promise<string | null> {
    const db = this.db();
    if (!db) return null;
    const held = this.tokens.get(round) ?? (await db.get('tokens', round))?.token;
    if (held) {
      this.tokens.set(round, held);
      return held;
    }
    if (heldOnly || this.tokenRefused.has(round)) return null;
    const obtained = await obtainReportToken(this.edge, this.site, round);
    if ('refused' in obtained) {
      // A network failure (a page leaving mid-request, offline) is retried by the next page, quietly.
      if (!obtained.retry) {
        this.tokenRefused.add(round);
        console.warn(`[vitrine] no report token for round ${round}; this round's report waits for the next: ${obtained.refused}`);
      }
      return null;
    }
    this.tokens.set(round, obtained.token);
    await db.put('tokens', { round, token: obtained.token });
    return obtained.token;
  }

  private url(): string {
    return `${this.edge}/v1/sites/${encodeURIComponent(this.site)}/reports`;
  }

  /** What an edge answer does to the report in the outbox (outboxAction): sent, re-targeted to the open round, kept for a retry, or dropped, and to its token. */
  async answered(reportId: string, status: number, body: string): Promise<void> {
    const db = this.db();
    if (!db) return;
    const action = outboxAction(status, body);
    const tx = db.transaction(['outbox', 'ledger', 'tokens'], 'readwrite');
    const outbox = tx.objectStore('outbox');
    const entry = await outbox.get(reportId);
    if (entry) {
      const round = entry.report.round;
      const retarget = action.kind === 'retarget' && !(await tx.objectStore('ledger').get(action.round));
      // The report's token goes unless the report is simply kept: spent (acknowledged), gone with a
      // report refused for good, refused itself, or worthless once the report moves to another round.
      if (action.kind === 'delete' || action.kind === 'new_token' || retarget) {
        await tx.objectStore('tokens').delete(round);
        this.tokens.delete(round);
      }
      if (action.kind === 'delete') {
        if (status >= 400) console.warn(`[vitrine] the edge refused report ${reportId} (${status}): ${body.slice(0, 200)}`);
        await outbox.delete(reportId);
      } else if (action.kind === 'new_token') {
        // A fresh token next time, a few times at most.
        if (entry.attempts >= 4) await outbox.delete(reportId);
        else await outbox.put({ ...entry, attempts: entry.attempts + 1 });
      } else if (retarget && action.kind === 'retarget') {
        // The report becomes the open round's one report from this device (the ledger says so).
        await tx.objectStore('ledger').put({ round: action.round, reportId, at: Date.now() });
        await outbox.put({ ...entry, attempts: entry.attempts + 1, report: { ...entry.report, round: action.round } });
      } else {
        // Kept: retried later (a 5xx, or a round that already has this device's report).
        await outbox.put({ ...entry, attempts: entry.attempts + 1 });
      }
    }
    await tx.done;
  }

  /**
   * Obtains the open round's token (every reporting device does, each round, whether or not it
   * has anything to report: asking for a token says nothing), and notes which reports earlier
   * pages left in the outbox. Null when there is no store or config.
   */
  private async readOutbox(): Promise<{ round: number; earlier: Set<string>; token: string | null } | null> {
    const db = this.db();
    const round = this.serving()?.config.round.id;
    if (!db || round === undefined) return null;
    // Outcomes earlier pages never put into a report: this round's report, made first thing
    // (its transaction queued before this page can log an outcome).
    await this.make();
    // Earlier pages' reports: the ones this pass sends. A report this page makes meanwhile is
    // the page's to send (sending it here too would spend its token under the page's feet).
    const earlier = new Set(await db.getAllKeys('outbox'));
    // Tokens of rounds gone by are worth nothing (each round has its own key): not kept.
    await db.delete('tokens', IDBKeyRange.upperBound(round, true));
    const reported = await db.get('ledger', round);
    if (reported && earlier.size === 0) return { round, earlier, token: null };
    // A token an earlier page obtained this round: nothing to ask for, so nothing to wait for.
    const held = await this.token(round, true);
    if (held) return { round, earlier, token: held };
    const firstDecisionOrASecond = Promise.race([this.firstDecision, new Promise<void>((done) => setTimeout(done, 1000))]);
    await firstDecisionOrASecond.then(() => new Promise<void>((done) => setTimeout(done, this.tokenDelayMs)));
    return { round, earlier, token: await this.token(round).catch(() => null) };
  }

  /**
   * Sends what earlier pages left in the outbox. A report of a round this device holds no token
   * for goes without one: the edge answers with the open round (it is re-targeted) or asks for a
   * token (it waits).
   */
  private async sendEarlier(round: number, earlier: Set<string>): Promise<void> {
    const db = this.db();
    if (!db) return;
    for (const entry of await db.getAll('outbox')) {
      if (!earlier.has(entry.reportId)) continue;
      const token = this.tokens.get(entry.report.round) ?? (entry.report.round === round ? null : undefined);
      if (token === null) continue; // the open round's report, and no token for it (yet): it waits
      const { status, body } = await postReport(this.url(), token === undefined ? entry.report : { ...entry.report, token }, 'engine');
      await this.answered(entry.reportId, status, body);
    }
  }
}
