/**
 * Recording shopper events and keeping the profile they produce.
 *
 * Each call is one readwrite transaction over events and profile: the events are added, folded
 * into the profile, and old events evicted, all or nothing. IndexedDB serializes overlapping
 * readwrite transactions across tabs, so two tabs recording at once lose and double nothing.
 * Eviction never changes the profile: it already holds what the evicted events said.
 */
import { emptyProfile, isValidProfile } from '../../protocol/profile.ts';
import type { ShopperProfile } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';
import type { DeviceDB } from './device-store.ts';

export interface RetentionPolicy {
  /** Events older than this are deleted (default 30 days). */
  ttlMs: number;
  /** At most this many events are kept, oldest evicted first (default 2,000). */
  maxEvents: number;
  halfLifeHours: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { ttlMs: 30 * 86_400_000, maxEvents: 2000, halfLifeHours: 72 };

/** How often expired events are swept (per open database): a sweep walks an index, so not on every event. */
const TTL_SWEEP_EVERY_MS = 10 * 60_000;
const lastSweep = new WeakMap<DeviceDB, number>();

async function record(db: DeviceDB, events: ShopperEvent[], retention: RetentionPolicy, now: number): Promise<void> {
  // Relaxed durability: the commit does not wait for the disk flush. Losing the last event to a
  // power cut costs nothing; waiting for the flush on every event costs milliseconds each time.
  const tx = db.transaction(['events', 'profile'], 'readwrite', { durability: 'relaxed' });
  const eventStore = tx.objectStore('events');
  const stored = await tx.objectStore('profile').get('current');
  let profile: ShopperProfile;
  if (isValidProfile(stored)) profile = stored;
  else {
    // None yet, or a row that cannot be trusted: (re)build from the events still stored.
    const history = await eventStore.index('byTime').getAll();
    profile = emptyProfile(history[0]?.at ?? now, retention.halfLifeHours);
    for (const e of history) applyEvent(profile, e);
  }
  let lastId = 0;
  for (const e of events) {
    applyEvent(profile, e);
    lastId = await eventStore.add({ ...e });
  }
  void tx.objectStore('profile').put(profile, 'current');
  // The cap: ids grow with every event recorded (in any tab), so "all but the newest maxEvents"
  // is one key range, deleted without counting or walking anything.
  if (lastId > retention.maxEvents) void eventStore.delete(IDBKeyRange.upperBound(lastId - retention.maxEvents));
  // The TTL: expired events, swept now and then.
  if (now - (lastSweep.get(db) ?? -Infinity) >= TTL_SWEEP_EVERY_MS) {
    lastSweep.set(db, now);
    let cursor = await eventStore.index('byTime').openCursor(IDBKeyRange.upperBound(now - retention.ttlMs));
    while (cursor) {
      void cursor.delete();
      cursor = await cursor.continue();
    }
  }
  await tx.done;
}

/** Deletes the older half of the events: room for new ones when the origin's quota is full. */
async function evictHalf(db: DeviceDB): Promise<void> {
  const tx = db.transaction('events', 'readwrite');
  let toDelete = Math.ceil((await tx.store.count()) / 2);
  let cursor = await tx.store.index('byTime').openCursor();
  while (cursor && toDelete-- > 0) {
    void cursor.delete();
    cursor = await cursor.continue();
  }
  await tx.done;
}

function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'QuotaExceededError';
}

/** Records events; on a full quota, evicts old events and retries once. */
export async function recordEvents(db: DeviceDB, events: ShopperEvent[], retention = DEFAULT_RETENTION, now = Date.now()): Promise<void> {
  try {
    await record(db, events, retention, now);
  } catch (e) {
    if (!isQuotaError(e)) throw e;
    await evictHalf(db);
    await record(db, events, retention, now);
  }
}

/**
 * The current profile. A stored profile that fails validation is rebuilt from the stored events
 * (and written back), so one bad row never reaches the model and never stops the engine.
 */
export async function readProfile(db: DeviceDB, halfLifeHours = DEFAULT_RETENTION.halfLifeHours, now = Date.now()): Promise<ShopperProfile> {
  const stored = await db.get('profile', 'current');
  if (stored === undefined) return emptyProfile(now, halfLifeHours);
  if (isValidProfile(stored)) return stored;
  const tx = db.transaction(['events', 'profile'], 'readwrite');
  const events = await tx.objectStore('events').index('byTime').getAll();
  const rebuilt = emptyProfile(events[0]?.at ?? now, halfLifeHours);
  for (const e of events) applyEvent(rebuilt, e);
  await tx.objectStore('profile').put(rebuilt, 'current');
  await tx.done;
  return rebuilt;
}
