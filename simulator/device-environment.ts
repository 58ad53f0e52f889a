/**
 * What makes many simulated devices share one Node process without sharing anything a real
 * device would not: each device's visit runs inside its own context (AsyncLocalStorage), which
 * gives it its own IndexedDB (a fake-indexeddb factory of its own, kept across rounds) and its
 * own network address (the edge rate-limits and keys clients by address, as with distinct
 * phones). Because the context follows the visit's awaits, visits can overlap, and the
 * simulator runs several at once while each one's requests wait on the edge.
 *
 * A visit may also run on another day than the process's: `Date.now()` inside it is shifted back
 * by the visit's `ago`, so a run can compress days of shopping into minutes and every time the
 * engine reads or writes (events, the profile's decay, decisions, attribution) is the day's.
 * The edge runs in its own process on the real clock (round ids), and so does the cache.
 *
 * GET requests (site config, model artifacts) go through one shared HTTP cache that honours the
 * edge's Cache-Control (`max-age`, `immutable`), as the CDN in front of a deployed worker would;
 * the simulator purges it when it promotes a model. Reports (POST) always reach the edge.
 */
import 'fake-indexeddb/auto';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IDBFactory } from 'fake-indexeddb';

export interface DeviceContext {
  address: string;
  storage: IDBFactory;
}

interface Cached {
  status: number;
  headers: [string, string][];
  body: ArrayBuffer;
  expires: number;
}

interface Visit {
  device: DeviceContext;
  /** Milliseconds the visit's clock is behind the process's. */
  ago: number;
}

export class SimulatedDevices {
  private readonly context = new AsyncLocalStorage<Visit>();
  private readonly realNow = Date.now.bind(Date);
  private readonly cache = new Map<string, Cached>();
  private readonly realFetch = globalThis.fetch;
  private readonly realIndexedDB = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB');
  /** The address requests outside any device's visit (the trainer's) come from. */
  constructor(private readonly serverAddress = '10.255.255.254') {}

  install(): void {
    const context = this.context;
    const fallback = globalThis.indexedDB;
    Object.defineProperty(globalThis, 'indexedDB', { configurable: true, get: () => context.getStore()?.device.storage ?? fallback });
    globalThis.fetch = (input, init) => this.fetch(input, init);
    const realNow = this.realNow;
    Date.now = () => realNow() - (context.getStore()?.ago ?? 0);
  }

  uninstall(): void {
    Date.now = this.realNow;
    globalThis.fetch = this.realFetch;
    if (this.realIndexedDB) Object.defineProperty(globalThis, 'indexedDB', this.realIndexedDB);
  }

  /** Runs one device's visit in its own context, `ago` milliseconds before the process's present. */
  visit<T>(device: DeviceContext, run: () => Promise<T>, ago = 0): Promise<T> {
    return this.context.run({ device, ago }, run);
  }

  purge(): void {
    this.cache.clear();
  }

  private async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const headers = new Headers(init?.headers);
    headers.set('cf-connecting-ip', this.context.getStore()?.device.address ?? this.serverAddress);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const url = input instanceof Request ? input.url : String(input);
    const revalidate = init?.cache === 'no-cache' || init?.cache === 'no-store' || headers.has('authorization');
    if (method === 'GET' && !revalidate) {
      const hit = this.cache.get(url);
      if (hit && hit.expires > this.realNow()) {
        return new Response(hit.body.slice(0), { status: hit.status, headers: hit.headers });
      }
    }
    const response = await this.realFetch(input, { ...init, headers });
    const maxAge = method === 'GET' && response.status === 200 && !headers.has('authorization') ? cacheableFor(response.headers.get('cache-control')) : 0;
    if (maxAge <= 0) return response;
    const body = await response.arrayBuffer();
    const kept: [string, string][] = [...response.headers];
    this.cache.set(url, { status: response.status, headers: kept, body, expires: this.realNow() + maxAge * 1000 });
    return new Response(body.slice(0), { status: response.status, headers: kept });
  }
}

/** Seconds a shared cache may keep a response with this Cache-Control, 0 when it may not. */
export function cacheableFor(cacheControl: string | null): number {
  if (!cacheControl) return 0;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache' || d === 'private')) return 0;
  const maxAge = directives.find((d) => d.startsWith('s-maxage=')) ?? directives.find((d) => d.startsWith('max-age='));
  const seconds = maxAge ? Number(maxAge.split('=')[1]) : 0;
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}
