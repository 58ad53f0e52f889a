/**
 * The simulator's device environment: overlapping visits each see their own IndexedDB and send
 * their own address, and GETs are cached only as the edge's Cache-Control allows (a real HTTP
 * server on localhost plays the edge here).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IDBFactory } from 'fake-indexeddb';
import { openDB } from 'idb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheableFor, SimulatedDevices } from '../../simulator/device-environment.ts';

const seen: { method: string; url: string; address: string }[] = [];
const server = createServer((req, res) => {
  seen.push({ method: req.method!, url: req.url!, address: String(req.headers['cf-connecting-ip']) });
  const cacheControl = req.url === '/immutable' ? 'public, max-age=31536000, immutable' : req.url === '/short' ? 'public, max-age=60' : 'no-store';
  res.writeHead(200, { 'cache-control': cacheControl, 'content-type': 'text/plain' });
  res.end(`${req.method} ${req.url} #${seen.length}`);
});
let base = '';
const devices = new SimulatedDevices('10.255.255.254');

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  devices.install();
});
afterAll(() => {
  devices.uninstall();
  server.close();
});

describe('simulated devices', () => {
  it('gives each overlapping visit its own storage and address', async () => {
    const a = { address: '10.0.0.1', storage: new IDBFactory() };
    const b = { address: '10.0.0.2', storage: new IDBFactory() };
    const write = (value: string) => async () => {
      const db = await openDB('shared-name', 1, { upgrade: (d) => d.createObjectStore('kv') });
      await new Promise((r) => setTimeout(r, 5)); // let the other visit run in between
      await db.put('kv', value, 'who');
      await fetch(`${base}/report`, { method: 'POST', body: value });
      const read = await db.get('kv', 'who');
      db.close();
      return read;
    };
    const [readA, readB] = await Promise.all([devices.visit(a, write('a')), devices.visit(b, write('b'))]);
    expect([readA, readB]).toEqual(['a', 'b']);
    // Each factory holds only its own device's value.
    const only = async (factory: IDBFactory) =>
      devices.visit({ address: 'x', storage: factory }, async () => (await openDB('shared-name', 1)).get('kv', 'who'));
    expect(await only(a.storage)).toBe('a');
    expect(await only(b.storage)).toBe('b');
    const posts = seen.filter((s) => s.method === 'POST');
    expect(posts.map((s) => s.address).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    // Outside a visit, requests come from the server's address.
    await fetch(`${base}/outside`);
    expect(seen.at(-1)!.address).toBe('10.255.255.254');
  });

  it('runs a visit on its own day: Date.now() inside it is shifted back by its ago, across awaits, and nowhere else', async () => {
    const DAY = 86_400_000;
    const device = { address: '10.0.0.3', storage: new IDBFactory() };
    const clockAt = (ago: number) =>
      devices.visit(
        device,
        async () => {
          const before = Date.now();
          await new Promise((r) => setTimeout(r, 5)); // the other visit runs in between
          return [before, Date.now()];
        },
        ago,
      );
    const outside = Date.now();
    const [[twoDaysAgo, later], [today]] = await Promise.all([clockAt(2 * DAY), clockAt(0)]);
    expect(twoDaysAgo! - outside).toBeGreaterThan(-2 * DAY - 1000);
    expect(twoDaysAgo! - outside).toBeLessThan(-2 * DAY + 1000);
    expect(later! - twoDaysAgo!).toBeGreaterThanOrEqual(4); // the day's clock still runs
    expect(later! - twoDaysAgo!).toBeLessThan(1000);
    expect(Math.abs(today! - outside)).toBeLessThan(1000);
    expect(Math.abs(Date.now() - outside)).toBeLessThan(1000);
  });

  it('answers GETs from the cache only as Cache-Control allows, never POSTs, and purges', async () => {
    const device = { address: '10.0.0.3', storage: new IDBFactory() };
    const count = (url: string) => seen.filter((s) => s.url === url).length;
    await devices.visit(device, async () => {
      const first = await (await fetch(`${base}/immutable`)).text();
      expect(await (await fetch(`${base}/immutable`)).text()).toBe(first);
      await fetch(`${base}/short`);
      await fetch(`${base}/short`);
      await fetch(`${base}/short`, { cache: 'no-cache' }); // a revalidation goes to the edge
      await fetch(`${base}/uncached`);
      await fetch(`${base}/uncached`);
      await fetch(`${base}/immutable`, { method: 'POST' });
    });
    expect(count('/immutable')).toBe(2); // one GET, one POST
    expect(count('/short')).toBe(2);
    expect(count('/uncached')).toBe(2);
    devices.purge();
    await devices.visit(device, () => fetch(`${base}/immutable`));
    expect(count('/immutable')).toBe(3);
  });

  it('reads Cache-Control as a shared cache does', () => {
    expect(cacheableFor('public, max-age=60')).toBe(60);
    expect(cacheableFor('public, max-age=60, s-maxage=5')).toBe(5);
    expect(cacheableFor('private, max-age=60')).toBe(0);
    expect(cacheableFor('no-store')).toBe(0);
    expect(cacheableFor('max-age=abc')).toBe(0);
    expect(cacheableFor(null)).toBe(0);
  });
});
