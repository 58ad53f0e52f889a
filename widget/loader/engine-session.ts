/**
 * The engine worker's life on this page: started with the storage and reporting the shopper's
 * choices allow, restarted when consent changes, put away when the page is frozen (back/forward
 * cache) and started again when it comes back, replaced by an in-memory engine when it stops
 * answering, and the one place commands wait for it.
 *
 * Consent changes restart the worker rather than switching its storage in place: an engine
 * that has only ever had an in-memory store cannot leak what it held into IndexedDB.
 *
 * Why a frozen page loses its worker: a page kept in the back/forward cache is frozen with its
 * workers, and an IndexedDB transaction the worker had open keeps its locks while frozen, so the
 * next page's engine would wait for ever (WebKit keeps pages there on link navigations).
 * Terminating the worker at pagehide (persisted) or freeze ends its transactions; none is
 * left holding anything, and the page's next engine starts when the page is shown again.
 */
import { databaseName } from '../database-name.ts';
import type { Remote } from 'comlink';
import type { EngineApi, EngineStartOptions, EngineStatus, PrefetchedConfig } from '../engine/engine-api.ts';
import { configUrl } from '../config-url.ts';
import { answerWithin } from '../answer-bound.ts';
import { startEngineWorker } from './engine-connection.ts';
import type { ScriptSettings } from './script-settings.ts';

/** The engine did not answer within the page's answer bound (`data-answer-ms`), or its storage failed: the page goes on in memory. */
export class EngineNotAnswering extends Error {}

/** Neither the engine's start nor the config it needs answered within twice the page's bound: no personalization on this page. */
class EngineNotStarting extends Error {}

/** What the renderer calls for a creative it shows: always the page's current engine. */
export type OutcomeSink = Pick<EngineApi, 'recordOutcome' | 'prepareReport' | 'reportAnswered'>;

export class EngineSession {
  private current: Promise<Remote<EngineApi> | null> | null = null;
  private worker: Worker | null = null;
  private consentGiven: boolean;
  /** After the engine stopped answering: this page goes on in memory, and sends nothing. */
  private memoryOnly = false;
  readonly gpc: boolean;
  /** The config, asked for at once (while the engine chunk loads) for the first engine only. */
  private prefetch: Promise<PrefetchedConfig | null> | null;
  /** That same config, for the in-memory engine that replaces a first engine whose storage failed seconds ago. */
  private readonly pageConfig: Promise<PrefetchedConfig | null> | null;

  constructor(
    private readonly settings: ScriptSettings,
    /** Runs the page's flow (record the page, decide, render) on a freshly started engine. */
    private readonly onStarted: (engine: Remote<EngineApi>) => Promise<void>,
    private readonly warn: (message: string) => void,
  ) {
    this.consentGiven = !settings.consentRequired;
    this.gpc = (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
    this.prefetch = this.allowed ? prefetchConfig(settings.edge, settings.site) : null;
    this.pageConfig = this.prefetch;
  }

  /** Whether Vitrine may run at all on this page. */
  get allowed(): boolean {
    return !(this.gpc && this.settings.gpcStops === 'everything');
  }

  start(): Promise<Remote<EngineApi> | null> {
    if (!this.allowed) return Promise.resolve(null);
    const persistent = this.consentGiven && !this.memoryOnly;
    const options: EngineStartOptions = {
      edge: this.settings.edge,
      site: this.settings.site,
      storage: persistent ? 'persistent' : 'memory',
      // An engine without durable storage keeps no ledger, so it could not keep to one report per round.
      reporting: persistent && !this.gpc,
      pageOrigin: location.origin,
      // The engine's own bounds on its storage and its model sit inside the page's, so a held
      // database or a stalled model is answered (and the page recovers) before the page gives up.
      startAnswerMs: Math.max(100, this.settings.answerMs - 300),
    };
    const prefetched = this.prefetch;
    this.prefetch = null;
    const started = (async () => {
      // Bounded, so a page never waits in silence: the engine answers within its own bound
      // (startAnswerMs) or as soon as it knows it cannot; twice the page's bound is a network
      // or a worker that never answered at all (an engine chunk or a config request that
      // stalled, a lost message). The bound covers the chunk's download too.
      const startMs = 2 * this.settings.answerMs;
      let gaveUp = false;
      let worker: Worker | null = null;
      // Where the start was when the page gave up: it goes in the warning, so a stall names its step.
      let step = 'fetching the engine chunk';
      const starting = (async () => {
        const connection = await startEngineWorker(this.settings.scriptUrl, !persistent);
        worker = connection.worker;
        step = 'waiting for the config asked for at load';
        // A chunk that arrives after the page gave up starts nothing that could go on (and report) unseen.
        if (gaveUp) connection.worker.terminate();
        else this.worker = connection.worker;
        options.prefetchedConfig = await prefetched;
        step = `waiting for the worker's answer to its start (${persistent ? 'device storage' : 'in memory'})`;
        return { engine: connection.engine, status: await Promise.race([connection.engine.start(options), connection.failed]) };
      })();
      starting.catch(() => undefined); // rejecting after the page gave up is nobody's error
      const { engine, status } = await answerWithin(
        starting,
        startMs,
        () => new EngineNotStarting(`the engine did not start within ${startMs} ms (${step})`),
      ).catch((e: unknown) => {
        if (!(e instanceof EngineNotStarting)) throw e;
        gaveUp = true;
        (worker as Worker | null)?.terminate();
        if (this.worker === worker) this.worker = null;
        return { engine: null, status: { state: 'unavailable', reason: e.message } as EngineStatus };
      });
      if (status.state === 'unavailable') {
        if (status.inMemory && !this.memoryOnly) throw new EngineNotAnswering(status.reason);
        this.warn(`no personalization on this page: ${status.reason}`);
        return null;
      }
      if (status.fallbackReason) this.warn(status.fallbackReason);
      await this.onStarted(engine!);
      return engine!;
    })();
    // What engine() hands out is the engine after any recovery, so a command made meanwhile
    // (forget, export, an outcome) waits for the in-memory engine instead of failing with the first.
    const settled = started.catch((e: unknown) => {
      if (!(e instanceof EngineNotAnswering) || this.current !== settled) throw e;
      return this.recover(e.message);
    });
    this.current = settled;
    return settled;
  }

  /**
   * The engine stopped answering, or its IndexedDB failed or did not answer (held by another
   * tab's upgrade or transaction): the slots keep the merchant's content, this worker goes, and
   * the page goes on with an in-memory engine in a new worker. Once per page: a second failure
   * stops personalization here.
   */
  private recover(why: string): Promise<Remote<EngineApi> | null> {
    this.worker?.terminate();
    this.worker = null;
    if (this.memoryOnly) {
      this.warn(`no personalization on this page: the in-memory engine did not answer either (${why})`);
      this.current = Promise.resolve(null);
      return this.current;
    }
    this.memoryOnly = true;
    this.warn(`the engine's storage is not usable (${why}); this page goes on in memory and sends no report`);
    // The recovery asks the network for nothing the page already has: the config fetched at load
    // (the chunks are kept too, engine-connection.ts), so only the in-memory store's chunk is new.
    this.prefetch = this.pageConfig;
    return this.start();
  }

  /** `work`, or an EngineNotAnswering rejection once the page's answer bound has passed without an answer. */
  answered<T>(work: Promise<T>, what: string): Promise<T> {
    const ms = this.settings.answerMs;
    return answerWithin(work, ms, () => new EngineNotAnswering(`${what} took longer than ${ms} ms`));
  }

  /** The running engine (waiting for it to start), or null when there is none. */
  engine(): Promise<Remote<EngineApi> | null> {
    return this.current ?? this.start();
  }

  /** Calls of the renderer, on whichever engine is current when they are made. */
  readonly outcomes: OutcomeSink = {
    recordOutcome: async (id, kind) => void (await (await this.engine())?.recordOutcome(id, kind)),
    prepareReport: async () => (await (await this.engine())?.prepareReport()) ?? null,
    reportAnswered: async (id, status, body) => void (await (await this.engine())?.reportAnswered(id, status, body)),
  };

  /** The page is frozen or kept in the back/forward cache: no worker may hold anything meanwhile. */
  suspend(): void {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = null;
    this.current = null;
  }

  /** The page is shown again (restored from the cache): a new engine, and the page's flow on it. */
  resume(): void {
    if (this.current || !this.allowed) return;
    this.start().catch((e: unknown) => this.warn(`stopped: ${e instanceof Error ? e.message : String(e)}`));
  }

  /**
   * `wipe`: a consent manager said no, which must also remove what an earlier visit stored under
   * consent given then (this page's engine runs in memory and holds no connection to it).
   */
  async setConsent(given: boolean, wipe = false): Promise<void> {
    if (given === this.consentGiven) {
      if (!given && wipe) deleteStoredData(this.settings.site);
      return;
    }
    const engine = this.current ? await this.current : null;
    // Withdrawn: wipe what was stored, before anything else can write again.
    if (!given && engine) await engine.forget();
    if (!given && wipe) deleteStoredData(this.settings.site);
    this.consentGiven = given;
    if (this.current) {
      this.worker?.terminate();
      await this.start();
    }
  }
}

/**
 * The config request the engine would make first, made by the page while the engine chunk is
 * on its way (same URL, same cache, no credentials); null when it fails, and the engine asks again.
 */
async function prefetchConfig(edge: string, site: string): Promise<PrefetchedConfig | null> {
  try {
    const response = await fetch(configUrl(edge, site), { credentials: 'omit' });
    return { status: response.status, etag: response.headers.get('etag'), body: await response.text() };
  } catch {
    return null;
  }
}

/** Deletes the site's database on the device from the page (another tab holding it open delays the deletion until it closes). */
function deleteStoredData(site: string): void {
  try {
    indexedDB.deleteDatabase(databaseName(site));
  } catch {
    // no IndexedDB here: nothing was stored
  }
}
