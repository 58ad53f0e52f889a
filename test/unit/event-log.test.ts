import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DB_VERSION, openDeviceStore } from '../../widget/engine/device-store.ts';
import { readProfile, recordEvents } from '../../widget/engine/event-log.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';

const DAY = 86_400_000;
const view = (at: number, category = 'hats'): ShopperEvent => ({ type: 'product_view', at, category, price: 30 });
const site = () => `test-${Math.random().toString(36).slice(2)}`;

describe('event log and profile store', () => {
  it('evicts events beyond the cap, oldest first, while the profile keeps counting them', async () => {
    const db = await openDeviceStore(site());
    const retention = { ttlMs: 365 * DAY, maxEvents: 50, halfLifeHours: 72 };
    for (let i = 0; i < 120; i++) await recordEvents(db, [view(1000 + i)], retention, 1000 + i);
    const events = await db.getAll('events');
    expect(events).toHaveLength(50);
    expect(Math.min(...events.map((e) => e.at))).toBe(1000 + 70);
    expect((await readProfile(db)).totalEvents).toBe(120);
    db.close();
  });

  it('deletes events older than the TTL', async () => {
    const db = await openDeviceStore(site());
    const retention = { ttlMs: 30 * DAY, maxEvents: 2000, halfLifeHours: 72 };
    const now = 100 * DAY;
    await recordEvents(db, [view(now - 40 * DAY), view(now - 31 * DAY), view(now - 29 * DAY)], retention, now - 29 * DAY);
    await recordEvents(db, [view(now)], retention, now);
    expect((await db.getAll('events')).map((e) => e.at)).toEqual([now - 29 * DAY, now]);
    db.close();
  });

  it('rebuilds a corrupted profile from stored events instead of trusting it', async () => {
    const db = await openDeviceStore(site());
    const t = Date.now();
    await recordEvents(db, [view(t - 3, 'hats'), view(t - 2, 'hats'), view(t - 1, 'bags')]);
    await db.put('profile', { v: 1, categories: 'garbage' } as never, 'current');
    const profile = await readProfile(db);
    expect(profile.totalEvents).toBe(3);
    expect(Object.keys(profile.categories).sort()).toEqual(['bags', 'hats']);
    expect(profile.categories.hats!).toBeGreaterThan(profile.categories.bags!);
    // and recording on top of a corrupted row rebuilds too, rather than starting from zero
    await db.put('profile', { nonsense: true } as never, 'current');
    await recordEvents(db, [view(t, 'bags')]);
    expect((await readProfile(db)).totalEvents).toBe(4);
    db.close();
  });

  it('upgrades a database written by the first version through every migration', async () => {
    const name = site();
    const first = await openDeviceStore(name, 1);
    await recordEvents(first, [view(Date.now() - 1)]);
    first.close();
    const upgraded = await openDeviceStore(name);
    expect([...upgraded.objectStoreNames].sort()).toEqual(['assignments', 'decisions', 'dismissed', 'events', 'ledger', 'outbox', 'profile', 'tokens']);
    expect(await upgraded.getAll('events')).toHaveLength(1);
    upgraded.close();
  });

  it('upgrades a database written by the previous version without losing anything', async () => {
    const name = site();
    const old = await openDeviceStore(name, DB_VERSION - 1);
    await recordEvents(old, [view(Date.now() - 2), view(Date.now() - 1)]);
    await old.put('decisions', {
      id: 'd1',
      at: 1,
      round: 1,
      slot: 'hero',
      creativeId: 'c',
      propensity: 0.2,
      modelVersion: null,
      impression: true,
      click: false,
      reported: { impression: false, click: false },
    });
    expect(old.objectStoreNames.contains('assignments')).toBe(false); // the store the latest version adds
    old.close();

    const upgraded = await openDeviceStore(name);
    expect(upgraded.version).toBe(DB_VERSION);
    expect(upgraded.objectStoreNames.contains('assignments')).toBe(true);
    expect(upgraded.objectStoreNames.contains('tokens')).toBe(true);
    expect(upgraded.objectStoreNames.contains('dismissed')).toBe(true);
    expect(upgraded.objectStoreNames.contains('ledger')).toBe(true);
    expect(await upgraded.getAll('events')).toHaveLength(2);
    expect((await upgraded.get('decisions', 'd1'))?.propensity).toBe(0.2);
    expect((await readProfile(upgraded)).totalEvents).toBe(2);
    upgraded.close();
  });
});

describe('a full quota', () => {
  it('evicts the older half of the events and records once more, counting the event exactly once', async () => {
    const db = await openDeviceStore(site());
    const retention = { ttlMs: 365 * DAY, maxEvents: 2000, halfLifeHours: 72 };
    await recordEvents(
      db,
      Array.from({ length: 40 }, (_, i) => view(1000 + i)),
      retention,
      1040,
    );
    // What a browser does when a commit would exceed the origin's quota: the transaction aborts
    // with QuotaExceededError and everything in it is rolled back. fake-indexeddb's internal
    // _abort(name) is exactly that step of the spec, so it stands in for a full disk here.
    const proto = IDBObjectStore.prototype as IDBObjectStore & { add: IDBObjectStore['add'] };
    const realAdd = proto.add;
    let failures = 0;
    proto.add = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['add']>) {
      const request = realAdd.apply(this, args);
      if (failures++ === 0) (this.transaction as unknown as { _abort(name: string): void })._abort('QuotaExceededError');
      return request;
    };
    try {
      await recordEvents(db, [view(2000, 'bags')], retention, 2000);
    } finally {
      proto.add = realAdd;
    }
    expect(failures).toBe(2);
    const events = await db.getAll('events');
    expect(events).toHaveLength(21);
    expect(events.at(-1)).toMatchObject({ at: 2000, category: 'bags' });
    expect(Math.min(...events.map((e) => e.at))).toBe(1020);
    const profile = await readProfile(db);
    expect(profile.totalEvents).toBe(41);
    expect(profile.categories.bags).toBeGreaterThan(0);
    db.close();
  });

  it('surfaces anything else, and leaves nothing half-written', async () => {
    const db = await openDeviceStore(site());
    const now = Date.now();
    await recordEvents(db, [view(now)]);
    const unclonable = { ...view(now + 1), category: (() => 'x') as unknown as string };
    await expect(recordEvents(db, [unclonable])).rejects.toThrow();
    expect(await db.count('events')).toBe(1);
    expect((await readProfile(db)).totalEvents).toBe(1);
    db.close();
  });
});
