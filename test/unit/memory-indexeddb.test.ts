/**
 * The engine on the worker's in-memory IndexedDB (widget/engine/memory-indexeddb.ts), the store a
 * consent-pending shopper's worker runs on: the real DeviceEngine, in Node, with nothing else
 * installed as IndexedDB. Its schema's migrations, recording events (the pipelined raw-API
 * transaction), decisions and their outcomes, a purchase attributed through a cursor walking
 * backwards, the export, and forgetting; then the store's own rules: transactions in order, a
 * rollback on abort, key ranges and cursors that update and delete.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { installMemoryIndexedDB } from '../../widget/engine/memory-idb-database.ts';
import { MEMORY_STORE_MARK } from '../../widget/engine/memory-store-mark.ts';
import { demoCandidates } from '../fixtures/storefront/demo-candidates.ts';
import { siteConfigFixture } from '../fixtures/site-config.ts';

beforeAll(() => {
  installMemoryIndexedDB();
  (globalThis as Record<string, unknown>)[MEMORY_STORE_MARK] = true;
});

const config = () =>
  siteConfigFixture({
    site: 'memory',
    round: { id: 7, deadline: new Date(Date.now() + 3_600_000).toISOString(), minCohort: 50 },
    candidates: demoCandidates(),
  });

describe('the engine on the in-memory IndexedDB', () => {
  it('records, decides, measures, attributes a purchase, exports and forgets, all in memory', async () => {
    const { DeviceEngine } = await import('../../widget/engine/device-engine.ts');
    const engine = new DeviceEngine();
    const status = await engine.start({
      edge: 'http://edge.invalid',
      site: 'memory',
      storage: 'memory',
      reporting: false,
      prefetchedConfig: { status: 200, etag: null, body: JSON.stringify(config()) },
    });
    expect(status).toMatchObject({ state: 'ready', storage: 'memory' });
    await engine.track([{ type: 'page_view', at: Date.now() }]);
    await engine.track([{ type: 'product_view', at: Date.now(), category: 'bags', brand: 'Acme', price: 100 }]);
    const [decision] = await engine.decide(['hero'], { pageType: 'home', category: null, hour: 12, device: 'desktop' });
    expect(decision && 'candidate' in decision).toBe(true);
    await engine.recordOutcome(decision!.id, 'impression');
    await engine.recordOutcome(decision!.id, 'click');
    await engine.trackCalls([['purchase', { value: 120 }]]);
    const exported = async () =>
      JSON.parse(await engine.exportData()) as {
        events: { type: string }[];
        decisions: { id: string; impression: boolean; click: boolean; conversion?: boolean }[];
      };
    // The purchase's attribution runs behind the event write: looked for until it lands (10 s at most: a safety net, not a speed check).
    let data = await exported();
    for (let i = 0; i < 500 && !data.decisions[0]?.conversion; i++) data = await new Promise((r) => setTimeout(() => r(exported()), 20));
    expect(data.events.map((e) => e.type)).toEqual(['page_view', 'product_view', 'purchase']);
    expect(data.decisions).toHaveLength(1);
    expect(data.decisions[0]).toMatchObject({ id: decision!.id, impression: true, click: true, conversion: true });
    await engine.forget();
    expect(JSON.parse(await engine.exportData())).toMatchObject({ stored: null });
    expect(await indexedDB.databases()).toEqual([]);
  });
});

describe('the in-memory IndexedDB itself', () => {
  const open = (name: string, upgrade: (db: IDBDatabase) => void) =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => upgrade(r.result);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const done = (tx: IDBTransaction) =>
    new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
    });
  const result = <T>(r: IDBRequest<T>) =>
    new Promise<T>((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });

  it('generates keys, keeps clones, orders by key and index, and answers key ranges', async () => {
    const db = await open('rules-1', (d) => d.createObjectStore('events', { keyPath: 'id', autoIncrement: true }).createIndex('byTime', 'at'));
    const tx = db.transaction('events', 'readwrite');
    const value = { at: 30, tag: 'c' };
    for (const v of [value, { at: 10, tag: 'a' }, { at: 20, tag: 'b' }]) tx.objectStore('events').add(v);
    value.tag = 'changed after add';
    await done(tx);
    const read = db.transaction('events').objectStore('events');
    expect(await result(read.getAll())).toEqual([
      { at: 30, tag: 'c', id: 1 },
      { at: 10, tag: 'a', id: 2 },
      { at: 20, tag: 'b', id: 3 },
    ]);
    expect((await result(read.index('byTime').getAll())).map((e: { tag: string }) => e.tag)).toEqual(['a', 'b', 'c']);
    expect(await result(read.getAllKeys(IDBKeyRange.bound(2, 3)))).toEqual([2, 3]);
    expect(await result(read.index('byTime').getAll(IDBKeyRange.upperBound(20, true)))).toEqual([{ at: 10, tag: 'a', id: 2 }]);
    expect(await result(read.count(IDBKeyRange.lowerBound(2)))).toBe(2);
  });

  it('rolls a transaction back on abort, and runs transactions in the order they were made', async () => {
    const db = await open('rules-2', (d) => d.createObjectStore('kv'));
    const first = db.transaction('kv', 'readwrite');
    first.objectStore('kv').put('one', 'a');
    const second = db.transaction('kv', 'readwrite');
    second.objectStore('kv').put('two', 'a');
    await Promise.all([done(first), done(second)]);
    expect(await result(db.transaction('kv').objectStore('kv').get('a'))).toBe('two');
    const aborted = db.transaction('kv', 'readwrite');
    aborted.objectStore('kv').put('three', 'a');
    aborted.objectStore('kv').put('new', 'b');
    aborted.abort();
    await expect(done(aborted)).rejects.toMatchObject({ name: 'AbortError' });
    expect(await result(db.transaction('kv').objectStore('kv').getAll())).toEqual(['two']);
    // A second add of one key fails its request and aborts the transaction.
    const clash = db.transaction('kv', 'readwrite');
    clash.objectStore('kv').add('again', 'a');
    await expect(done(clash)).rejects.toMatchObject({ name: 'ConstraintError' });
  });

  it('walks a cursor backwards through an index range, updating and deleting as it goes', async () => {
    const db = await open('rules-3', (d) => d.createObjectStore('decisions', { keyPath: 'id' }).createIndex('byTime', 'at'));
    const tx = db.transaction('decisions', 'readwrite');
    for (const [id, at] of [
      ['d1', 1],
      ['d2', 2],
      ['d3', 3],
      ['d4', 4],
    ] as const)
      tx.objectStore('decisions').put({ id, at, seen: false });
    await done(tx);
    const walk = db.transaction('decisions', 'readwrite');
    const visited: string[] = [];
    const cursor = walk.objectStore('decisions').index('byTime').openCursor(IDBKeyRange.bound(2, 4), 'prev');
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      visited.push(c.value.id);
      if (c.value.id === 'd3') c.delete();
      else c.update({ ...c.value, seen: true });
      c.continue();
    };
    await done(walk);
    expect(visited).toEqual(['d4', 'd3', 'd2']);
    expect(await result(db.transaction('decisions').objectStore('decisions').getAll())).toEqual([
      { id: 'd1', at: 1, seen: false },
      { id: 'd2', at: 2, seen: true },
      { id: 'd4', at: 4, seen: true },
    ]);
  });
});
