/**
 * The engine's storage at start: the site's IndexedDB database (or, in a worker started in
 * memory, the in-memory store installed as its IndexedDB), opened and read within a bound, and
 * everything stored, for the shopper's export.
 */
import { answerWithin } from '../answer-bound.ts';
import type { ShopperProfile } from '../../protocol/profile.ts';
import { CellHistory } from './cell-history.ts';
import { openDeviceStore } from './device-store.ts';
import type { AssignmentEntry, DeviceDB } from './device-store.ts';
import { readHoldoutDraw } from './holdout-assignment.ts';
import { ImpressionCounter, loadDismissed } from './eligibility.ts';
import type { EngineStartOptions } from './engine-api.ts';
import { readProfile } from './event-log.ts';
import { memoryStoreInstalled } from './memory-store-mark.ts';

/**
 * How long the engine's start waits for what a page can do without: opening the site's database
 * and reading what decisions need (past it, the engine keeps this page's data in memory), and
 * the serving model (past it, the popularity prior decides until it arrives). IndexedDB that does
 * not answer is not an error anyone sees: another tab holding an upgrade, or a page frozen in the
 * back/forward cache holding a transaction's locks; nor is a stalled download. Under the loader's
 * own bound (1.5 s by default; the loader passes its own bound less 300 ms), so the engine falls
 * back before the page stops waiting for it.
 */
export const START_ANSWER_MS = 1200;

class StorageNotAnswering extends Error {}
/** The device's IndexedDB failed or did not answer: the loader starts an in-memory worker instead. */
export class StorageUnavailable extends Error {}

const withinMs = <T>(work: Promise<T>, ms: number, what: string): Promise<T> =>
  answerWithin(work, ms, () => new StorageNotAnswering(`${what} did not answer within ${ms} ms`));

/** What decisions read, loaded from the store once per page and kept in memory from then on. */
export interface LocalState {
  profile: ShopperProfile;
  impressions: ImpressionCounter;
  dismissed: Set<string>;
  cells: CellHistory;
  /** The device's holdout draw, while it lasts (holdout-assignment.ts). */
  holdout: AssignmentEntry | null;
}

async function readLocalState(db: DeviceDB, now: number): Promise<LocalState> {
  const [profile, impressions, dismissed, cells, holdout] = await Promise.all([
    readProfile(db, undefined, now),
    ImpressionCounter.load(db, now),
    loadDismissed(db),
    CellHistory.load(db),
    readHoldoutDraw(db, now),
  ]);
  return { profile, impressions, dismissed, cells, holdout };
}

/**
 * The site's IndexedDB database and what decisions read from it; StorageUnavailable when it
 * throws or does not answer within its bound (the loader then starts an in-memory
 * worker). With storage 'memory' (consent pending, or that in-memory worker): the in-memory
 * store (memory-store.ts) the loader installed as this worker's IndexedDB, never the page's.
 */
export async function openEngineStore(site: string, storage: EngineStartOptions['storage'], boundMs: number): Promise<{ db: DeviceDB; local: LocalState }> {
  const now = Date.now();
  if (storage === 'persistent') {
    const opening = openDeviceStore(site);
    try {
      const db = await withinMs(opening, boundMs, 'opening IndexedDB');
      try {
        return { db, local: await withinMs(readLocalState(db, now), boundMs, 'reading IndexedDB') };
      } catch (e) {
        db.close();
        throw e;
      }
    } catch (e) {
      // An open that answers after all is closed at once: this page has moved on.
      opening.then(
        (late) => late.close(),
        () => undefined,
      );
      // Not an in-memory database in this worker: idb has wrapped the real IndexedDB here and
      // cannot wrap the in-memory store's objects. The loader starts an in-memory worker instead.
      throw new StorageUnavailable(e instanceof StorageNotAnswering ? `${e.message} (another tab may hold it)` : `IndexedDB unavailable (${String(e)})`);
    }
  }
  // The loader put the in-memory store in front of this worker's code; without it this would
  // be the device's own IndexedDB, which a worker in memory must never write to.
  if (!memoryStoreInstalled()) throw new Error('the in-memory store is not installed in this worker');
  const db = await openDeviceStore(site);
  return { db, local: await readLocalState(db, now) };
}

/** Everything stored for the site on this device, for the shopper's export. */
export async function readEverything(db: DeviceDB) {
  const [profile, events, decisions, outbox, ledger] = await Promise.all([
    db.get('profile', 'current'),
    db.getAll('events'),
    db.getAll('decisions'),
    db.getAll('outbox'),
    db.getAll('ledger'),
  ]);
  return { profile: profile ?? null, events, decisions, outbox, ledger };
}
