/**
 * The engine's interface as the loader sees it through comlink: the only messages that cross
 * the main-thread / worker boundary. Types only, so the loader bundles none of the engine.
 */
import type { PageContext } from '../../protocol/features.ts';
import type { Candidate, CarouselItem, Report, Template } from '../../protocol/wire.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';
import type { Explanation } from './explanation.ts';

/** A config answer as the page received it (status, ETag, body), read by the engine as if it had fetched it. */
export interface PrefetchedConfig {
  status: number;
  etag: string | null;
  body: string;
}

export interface EngineStartOptions {
  /** Origin of the edge worker, e.g. https://vitrine.example.workers.dev */
  edge: string;
  site: string;
  /**
   * 'persistent': the site's IndexedDB database. 'memory': nothing is written to IndexedDB
   * (consent not given yet); everything lives as long as this worker.
   */
  storage: 'persistent' | 'memory';
  /** False when no report may leave the device (consent pending, Global Privacy Control). */
  reporting: boolean;
  /**
   * How long after the page's first decision the engine starts obtaining the round's report
   * token (default 3,000 ms): its blinding keeps this worker busy for tens of milliseconds, and
   * an event recorded as the tab closes must not wait behind it. Hosts that are not a page (the
   * simulator, tests of the federated loop) set 0.
   */
  reportTokenDelayMs?: number;
  /** The page's origin: the catalog's relative URLs are read against it to match the page's product (product-identity.ts). */
  pageOrigin?: string;
  /**
   * The site's config as the page fetched it while the engine chunk was on its way (the same
   * request the engine would make): the first creative does not wait for the two in a row.
   */
  prefetchedConfig?: PrefetchedConfig | null;
  /**
   * How long the engine's start waits for what a page can do without (default START_ANSWER_MS):
   * IndexedDB (past it the engine answers 'unavailable' and the page goes on in memory) and the
   * serving model (past it the popularity prior decides until the model arrives).
   */
  startAnswerMs?: number;
}

export type EngineStatus =
  | {
      state: 'ready';
      modelVersion: string | null;
      storage: 'indexeddb' | 'memory';
      fallbackReason: string | null;
    }
  /** inMemory: the site's IndexedDB failed or did not answer; an in-memory engine (a new worker) can still serve the page. */
  | { state: 'unavailable'; reason: string; inMemory?: boolean };

export interface Decision {
  id: string;
  slot: string;
  candidate: Candidate;
  template: Template;
  /** A carousel's products, ranked for this shopper on the device (empty for other layouts). */
  items: CarouselItem[];
  propensity: number;
  modelVersion: string | null;
  /** The site's currency (ISO 4217): prices show in it. */
  currency: string;
  /** "Why this ad?", from the shopper's own data on this device (explanation.ts), worded by the renderer. */
  why: Explanation;
}

/**
 * A slot of a held-out device (protocol/holdout.ts): it keeps its own content, which the page
 * measures (viewable impressions, clicks) as it measures a creative, under the same decision id.
 */
export interface HoldoutDecision {
  id: string;
  slot: string;
  holdout: true;
}

/** What a slot gets: a creative, or (a held-out device) its own content kept. */
export type SlotDecision = Decision | HoldoutDecision;

export const isHoldout = (d: SlotDecision): d is HoldoutDecision => 'holdout' in d;

/** One eligible creative's probability of being chosen for a slot (the policy's distribution). */
export interface CreativeProbability {
  creativeId: string;
  category: string;
  probability: number;
}

export interface PreparedReport {
  reportId: string;
  url: string;
  report: Report;
}

/** A dismissal is the shopper's "not interested": a negative outcome, and the creative is never shown on this device again. */
export type OutcomeKind = 'impression' | 'click' | 'dismissal';

export interface EngineApi {
  start(options: EngineStartOptions): Promise<EngineStatus>;
  track(events: ShopperEvent[]): Promise<void>;
  /** A merchant's `vitrine('track', type, props)` calls, in order: recorded if valid; the reasons for those dropped. */
  trackCalls(calls: [type: unknown, props: unknown][]): Promise<string[]>;
  decide(slots: string[], page: PageContext): Promise<SlotDecision[]>;
  /**
   * The policy's whole distribution for one slot right now (Thompson shares estimated with
   * `draws` posterior draws, floor included). For developers and tests (data-debug); decide()
   * does not go through it.
   */
  distribution(slot: string, page: PageContext, draws?: number): Promise<CreativeProbability[]>;
  recordOutcome(decisionId: string, kind: OutcomeKind): Promise<void>;
  /** Moves every outcome not yet reported into one outbox report, and returns it to be sent. */
  prepareReport(): Promise<PreparedReport | null>;
  /** Tells the engine what the edge answered to a report the page sent. */
  reportAnswered(reportId: string, status: number, body: string): Promise<void>;
  /** Deletes the site's database (events, profile, decisions, queued reports); the engine goes on in memory. */
  forget(): Promise<void>;
  /** Everything stored about the shopper, as JSON text. */
  exportData(): Promise<string>;
}
