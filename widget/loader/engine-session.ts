/**
 * The engine worker's life on this page: started with the storage and reporting the shopper's
 * choices allow, restarted when consent changes, and the one place commands wait for it.
 *
 * Consent changes restart the worker rather than switching its storage in place: an engine
 * that has only ever had an in-memory store cannot leak what it held into IndexedDB.
 */
import type { Remote } from 'comlink';
import type { EngineApi, EngineStartOptions } from '../engine/engine-api.ts';
import { startEngineWorker } from './engine-connection.ts';
import type { ScriptSettings } from './script-settings.ts';

export class EngineSession {
  private current: Promise<Remote<EngineApi> | null> | null = null;
  private worker: Worker | null = null;
  private consentGiven: boolean;
  readonly gpc: boolean;

  constructor(
    private readonly settings: ScriptSettings,
    /** Runs the page's flow (record the page, decide, render) on a freshly started engine. */
    private readonly onStarted: (engine: Remote<EngineApi>) => Promise<void>,
    private readonly warn: (message: string) => void,
  ) {
    this.consentGiven = !settings.consentRequired;
    this.gpc = (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
  }

  /** Whether Vitrine may run at all on this page. */
  get allowed(): boolean {
    return !(this.gpc && this.settings.gpcStops === 'everything');
  }

  start(): Promise<Remote<EngineApi> | null> {
    if (!this.allowed) return Promise.resolve(null);
    const options: EngineStartOptions = {
      edge: this.settings.edge,
      site: this.settings.site,
      storage: this.consentGiven ? 'persistent' : 'memory',
      reporting: this.consentGiven && !this.gpc,
    };
    this.current = (async () => {
      const { engine, worker } = await startEngineWorker(this.settings.scriptUrl);
      this.worker = worker;
      const status = await engine.start(options);
      if (status.state === 'unavailable') {
        this.warn(`no personalization on this page: ${status.reason}`);
        return null;
      }
      if (status.fallbackReason) this.warn(status.fallbackReason);
      await this.onStarted(engine);
      return engine;
    })();
    return this.current;
  }

  /** The running engine (waiting for it to start), or null when there is none. */
  engine(): Promise<Remote<EngineApi> | null> {
    return this.current ?? this.start();
  }

  async setConsent(given: boolean): Promise<void> {
    if (given === this.consentGiven) return;
    const engine = this.current ? await this.current : null;
    // Withdrawn: wipe what was stored, before anything else can write again.
    if (!given && engine) await engine.forget();
    this.consentGiven = given;
    if (this.current) {
      this.worker?.terminate();
      await this.start();
    }
  }
}
