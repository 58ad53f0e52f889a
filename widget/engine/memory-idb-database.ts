/**
 * The in-memory IndexedDB's databases and its factory (memory-indexeddb.ts has the transactions,
 * stores, indexes and cursors): `open` with versions and upgrades, `deleteDatabase`, and the
 * installation as a worker's globals.
 */
import { compare, MemoryKeyRange, namesOf } from './memory-idb-keys.ts';
import type { Key } from './memory-idb-keys.ts';
import {
  later,
  MemoryCursor,
  MemoryCursorWithValue,
  MemoryIndex,
  MemoryObjectStore,
  MemoryOpenRequest,
  MemoryRequest,
  MemoryTransaction,
  Target,
} from './memory-indexeddb.ts';
import type { DatabaseData } from './memory-indexeddb.ts';

const databases = new Map<string, DatabaseData>();

export class MemoryDatabase extends Target {
  private waiting: MemoryTransaction[] = [];
  private running: MemoryTransaction | null = null;
  closed = false;
  constructor(
    readonly name: string,
    readonly data: DatabaseData,
  ) {
    super();
  }
  get version() {
    return this.data.version;
  }
  get objectStoreNames() {
    return namesOf(this.data.stores.keys());
  }
  /** During an upgrade only (the open request's versionchange transaction). */
  upgrade: MemoryTransaction | null = null;
  createObjectStore(name: string, options: { keyPath?: string; autoIncrement?: boolean } = {}): MemoryObjectStore {
    if (!this.upgrade) throw new DOMException('object stores are made in an upgrade', 'InvalidStateError');
    this.data.stores.set(name, {
      keyPath: options.keyPath ?? null,
      autoIncrement: options.autoIncrement ?? false,
      next: 1,
      records: new Map(),
      indexes: new Map(),
    });
    (this.upgrade.objectStoreNames as string[]).push(name);
    return new MemoryObjectStore(this.upgrade, name);
  }
  deleteObjectStore(name: string): void {
    this.data.stores.delete(name);
  }
  transaction(names: string | string[], mode: IDBTransactionMode = 'readonly'): MemoryTransaction {
    if (this.closed) throw new DOMException('the database connection is closed', 'InvalidStateError');
    const list = typeof names === 'string' ? [names] : [...names];
    for (const n of list) if (!this.data.stores.has(n)) throw new DOMException(`no object store ${n}`, 'NotFoundError');
    const tx = new MemoryTransaction(this, list, mode);
    this.waiting.push(tx);
    if (!this.running) this.next();
    return tx;
  }
  /** The next transaction in line, when the one running has finished. */
  next(): void {
    this.running = this.waiting.shift() ?? null;
    this.running?.begin();
  }
  close(): void {
    this.closed = true;
    this.data.connections.delete(this);
  }
}

export const memoryIndexedDB = {
  open(name: string, version?: number): MemoryOpenRequest {
    const request = new MemoryOpenRequest(null, null);
    later(() => {
      const data = databases.get(name) ?? { version: 0, stores: new Map(), connections: new Set() };
      databases.set(name, data);
      const target = version ?? Math.max(1, data.version);
      if (target < data.version) {
        request.error = new DOMException(`version ${target} is below the database's ${data.version}`, 'VersionError');
        request.fire('error');
        return;
      }
      const db = new MemoryDatabase(name, data);
      data.connections.add(db);
      request.result = db;
      if (target > data.version) {
        const old = data.version;
        // The other connections are told, as IndexedDB's versionchange (idb's `blocking`).
        for (const other of data.connections) if (other !== db) other.fire('versionchange', { oldVersion: old, newVersion: target });
        db.upgrade = new MemoryTransaction(db, [...data.stores.keys()], 'versionchange');
        Object.defineProperty(request, 'transaction', { value: db.upgrade, configurable: true });
        data.version = target;
        request.fire('upgradeneeded', { oldVersion: old, newVersion: target });
        db.upgrade.finished = true;
        db.upgrade.fire('complete');
        db.upgrade = null;
        Object.defineProperty(request, 'transaction', { value: null, configurable: true });
      }
      request.readyState = 'done';
      request.fire('success');
    });
    return request;
  },
  deleteDatabase(name: string): MemoryOpenRequest {
    const request = new MemoryOpenRequest(null, null);
    later(() => {
      const data = databases.get(name);
      for (const db of data?.connections ?? []) db.fire('versionchange', { oldVersion: data!.version, newVersion: null });
      databases.delete(name);
      request.readyState = 'done';
      request.fire('success', { oldVersion: data?.version ?? 0, newVersion: null });
    });
    return request;
  },
  async databases() {
    return [...databases].map(([name, d]) => ({ name, version: d.version }));
  },
  cmp(a: Key, b: Key) {
    return compare(a, b);
  },
};

/** Makes this worker's IndexedDB the one above (only in a worker that may not use the device's). */
export function installMemoryIndexedDB(scope: object = globalThis): void {
  // Own properties of the global: a worker's `indexedDB` is a getter on its prototype, which plain assignment cannot replace.
  const globals: Record<string, unknown> = {
    indexedDB: memoryIndexedDB,
    IDBKeyRange: MemoryKeyRange,
    IDBRequest: MemoryRequest,
    IDBOpenDBRequest: MemoryOpenRequest,
    IDBDatabase: MemoryDatabase,
    IDBTransaction: MemoryTransaction,
    IDBObjectStore: MemoryObjectStore,
    IDBIndex: MemoryIndex,
    IDBCursor: MemoryCursor,
    IDBCursorWithValue: MemoryCursorWithValue,
  };
  for (const [name, value] of Object.entries(globals)) Object.defineProperty(scope, name, { value, configurable: true, writable: true });
}
