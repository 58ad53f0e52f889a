/**
 * A small IndexedDB that lives in the worker's memory: the part of the API the engine and `idb`
 * use (databases with versions and upgrades, object stores with in-line or out-of-line keys and
 * key generators, indexes, get/getAll/getAllKeys/add/put/delete/count, key ranges, cursors in
 * either direction with continue/update/delete, transactions that commit when their requests are
 * done and roll back on abort), installed as the globals of a worker that may not use the
 * device's storage (memory-store.ts). Nothing of it outlives the worker.
 *
 * Transactions run one at a time, in the order they were made (simpler than IndexedDB's
 * scheduling and as safe: a transaction commits once no request is left and the callbacks of the
 * last one, promise continuations included, have run). Values are stored and handed out as
 * structured clones, as IndexedDB does.
 */
import { compare, isKey, keyAt, type MemoryKeyRange, matches, namesOf } from './memory-idb-keys.ts';
import type { Key, Query } from './memory-idb-keys.ts';

/** A macrotask, not clamped (setTimeout's nesting clamp would make a long transaction crawl). */
const channel = new MessageChannel();
const macrotasks: (() => void)[] = [];
channel.port1.onmessage = () => macrotasks.shift()?.();
// In Node (the unit tests) an open port would keep the process alive.
(channel.port1 as unknown as { unref?: () => void }).unref?.();
export const later = (fn: () => void) => {
  macrotasks.push(fn);
  channel.port2.postMessage(0);
};

/** An event target with IndexedDB's `on<type>` handlers as well. */
export class Target extends EventTarget {
  [handler: `on${string}`]: ((event: Event) => void) | null | undefined;
  fire(type: string, extra: Record<string, unknown> = {}): boolean {
    const event = Object.assign(new Event(type, { cancelable: true }), extra);
    this[`on${type}`]?.call(this, event);
    return this.dispatchEvent(event);
  }
}

export interface StoreData {
  keyPath: string | null;
  autoIncrement: boolean;
  next: number;
  records: Map<Key, unknown>;
  indexes: Map<string, string>;
}
export interface DatabaseData {
  version: number;
  stores: Map<string, StoreData>;
  connections: Set<Target>;
}

/** What a transaction needs of its database: its data, and to start the next transaction in line. */
export interface TransactionHost {
  data: DatabaseData;
  next(): void;
}

export class MemoryRequest extends Target {
  result: unknown = undefined;
  error: DOMException | null = null;
  readyState: 'pending' | 'done' = 'pending';
  constructor(
    readonly source: unknown,
    readonly transaction: MemoryTransaction | null,
  ) {
    super();
  }
}
export class MemoryOpenRequest extends MemoryRequest {}

/** Runs `op` as the transaction's next request; its result (or DOMException) settles `request`. */
function enqueue(tx: MemoryTransaction, source: unknown, op: () => unknown, request = new MemoryRequest(source, tx)): MemoryRequest {
  if (tx.finished) throw new DOMException('the transaction has finished', 'TransactionInactiveError');
  tx.queue.push({ request, op });
  tx.pump();
  return request;
}

export class MemoryTransaction extends Target {
  queue: { request: MemoryRequest; op: () => unknown }[] = [];
  finished = false;
  error: DOMException | null = null;
  readonly objectStoreNames: string[] & { contains(n: string): boolean };
  private started = false;
  private scheduled = false;
  private snapshot: Map<string, StoreData> | null = null;
  constructor(
    readonly db: TransactionHost,
    names: string[],
    readonly mode: IDBTransactionMode,
  ) {
    super();
    this.objectStoreNames = namesOf(names);
  }
  objectStore(name: string): MemoryObjectStore {
    if (!this.objectStoreNames.contains(name)) throw new DOMException(`no object store ${name} in this transaction`, 'NotFoundError');
    return new MemoryObjectStore(this, name);
  }
  /** Called by the queue of transactions when this one's turn comes. */
  begin(): void {
    this.started = true;
    if (this.mode !== 'readonly') this.snapshot = cloneStores(this.db.data.stores);
    this.pump();
  }
  pump(): void {
    if (!this.started || this.scheduled || this.finished) return;
    this.scheduled = true;
    later(() => {
      this.scheduled = false;
      if (this.finished) return;
      if (this.queue.length === 0) return this.commit();
      // Every request queued by now, and those their callbacks queue at once; promise
      // continuations (idb's) run after this task and are looked for by the next.
      while (this.queue.length > 0 && !this.finished) {
        const { request, op } = this.queue.shift()!;
        try {
          request.result = op();
          request.readyState = 'done';
          request.fire('success');
        } catch (e) {
          request.readyState = 'done';
          request.error = e instanceof DOMException ? e : new DOMException(String(e), 'DataError');
          // Not prevented: the transaction aborts with the request's error.
          if (request.fire('error')) return this.abortWith(request.error);
        }
      }
      this.pump();
    });
  }
  abort(): void {
    if (this.finished) throw new DOMException('the transaction has finished', 'InvalidStateError');
    this.abortWith(new DOMException('the transaction was aborted', 'AbortError'));
  }
  private abortWith(error: DOMException): void {
    this.finished = true;
    this.error = error;
    if (this.snapshot) this.db.data.stores = this.snapshot;
    for (const { request } of this.queue.splice(0)) {
      request.error = new DOMException('the transaction was aborted', 'AbortError');
      request.fire('error');
    }
    later(() => {
      this.fire('abort');
      this.db.next();
    });
  }
  private commit(): void {
    this.finished = true;
    this.fire('complete');
    this.db.next();
  }
}

function cloneStores(stores: Map<string, StoreData>): Map<string, StoreData> {
  return new Map([...stores].map(([n, s]) => [n, { ...s, records: new Map(s.records), indexes: new Map(s.indexes) }]));
}

/** The value at a key path ("at" or "a.b"), if it is a key. */
type Entry = [Key, Key, unknown];

abstract class Source {
  constructor(
    readonly transaction: MemoryTransaction,
    readonly storeName: string,
  ) {}
  get data(): StoreData {
    return this.transaction.db.data.stores.get(this.storeName)!;
  }
  protected abstract entries(query: Query): Entry[];
  get(query: Key | MemoryKeyRange) {
    return enqueue(this.transaction, this, () => structuredClone(this.entries(query)[0]?.[2]));
  }
  getAll(query?: Query, count?: number) {
    return enqueue(this.transaction, this, () =>
      this.entries(query)
        .slice(0, count || undefined)
        .map((e) => structuredClone(e[2])),
    );
  }
  getAllKeys(query?: Query, count?: number) {
    return enqueue(this.transaction, this, () =>
      this.entries(query)
        .slice(0, count || undefined)
        .map((e) => e[1]),
    );
  }
  count(query?: Query) {
    return enqueue(this.transaction, this, () => this.entries(query).length);
  }
  openCursor(query?: Query, direction: IDBCursorDirection = 'next') {
    const request = new MemoryRequest(this, this.transaction);
    let list: Entry[] | null = null;
    let at = -1;
    const step = () => {
      list ??= direction.startsWith('prev') ? this.entries(query).reverse() : this.entries(query);
      at++;
      // A record deleted since the cursor opened is skipped.
      while (at < list.length && !this.data.records.has(list[at]![1])) at++;
      return at < list.length ? new MemoryCursor(this, request, list[at]!, () => enqueue(this.transaction, this, step, request)) : null;
    };
    return enqueue(this.transaction, this, step, request);
  }
}

export class MemoryObjectStore extends Source {
  get name() {
    return this.storeName;
  }
  get keyPath() {
    return this.data.keyPath;
  }
  get indexNames() {
    return namesOf(this.data.indexes.keys());
  }
  protected entries(query: Query): Entry[] {
    return [...this.data.records]
      .filter(([k]) => matches(query, k))
      .sort(([a], [b]) => compare(a, b))
      .map(([k, v]) => [k, k, v]);
  }
  index(name: string): MemoryIndex {
    if (!this.data.indexes.has(name)) throw new DOMException(`no index ${name}`, 'NotFoundError');
    return new MemoryIndex(this.transaction, this.storeName, name);
  }
  createIndex(name: string, keyPath: string): MemoryIndex {
    this.data.indexes.set(name, keyPath);
    return new MemoryIndex(this.transaction, this.storeName, name);
  }
  /** `stored`: the value's clone, made when the request was (what IndexedDB stores is the value as it was then). */
  private write(stored: unknown, key: Key | undefined, mayReplace: boolean): Key {
    const data = this.data;
    let k = data.keyPath ? keyAt(stored, data.keyPath) : key;
    if (k === undefined && data.autoIncrement) {
      k = data.next;
      if (data.keyPath) (stored as Record<string, unknown>)[data.keyPath] = k;
    }
    if (!isKey(k)) throw new DOMException('the record has no valid key', 'DataError');
    if (typeof k === 'number' && data.autoIncrement && k >= data.next) data.next = Math.floor(k) + 1;
    if (!mayReplace && data.records.has(k)) throw new DOMException(`key ${k} exists already`, 'ConstraintError');
    data.records.set(k, stored);
    return k;
  }
  put(value: unknown, key?: Key) {
    return this.writing(value, key, true);
  }
  add(value: unknown, key?: Key) {
    return this.writing(value, key, false);
  }
  private writing(value: unknown, key: Key | undefined, mayReplace: boolean) {
    if (this.transaction.mode === 'readonly') throw new DOMException('a read-only transaction', 'ReadOnlyError');
    // Cloned now, as IndexedDB does: a value that cannot be cloned throws here, in the caller.
    const stored = structuredClone(value);
    return enqueue(this.transaction, this, () => this.write(stored, key, mayReplace));
  }
  delete(query: Key | MemoryKeyRange) {
    return enqueue(this.transaction, this, () => {
      for (const k of [...this.data.records.keys()]) if (matches(query, k)) this.data.records.delete(k);
      return undefined;
    });
  }
  clear() {
    return enqueue(this.transaction, this, () => void this.data.records.clear());
  }
}

export class MemoryIndex extends Source {
  constructor(
    transaction: MemoryTransaction,
    storeName: string,
    readonly name: string,
  ) {
    super(transaction, storeName);
  }
  get objectStore() {
    return new MemoryObjectStore(this.transaction, this.storeName);
  }
  protected entries(query: Query): Entry[] {
    const path = this.data.indexes.get(this.name)!;
    const out: Entry[] = [];
    for (const [k, v] of this.data.records) {
      const ik = keyAt(v, path);
      if (ik !== undefined && matches(query, ik)) out.push([ik, k, v]);
    }
    return out.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  }
}

export class MemoryCursor {
  readonly key: Key;
  readonly primaryKey: Key;
  readonly value: unknown;
  constructor(
    readonly source: Source,
    readonly request: MemoryRequest,
    entry: Entry,
    private readonly advance: () => void,
  ) {
    [this.key, this.primaryKey] = entry;
    this.value = structuredClone(entry[2]);
  }
  continue(): void {
    this.advance();
  }
  update(value: unknown) {
    const store = new MemoryObjectStore(this.source.transaction, this.source.storeName);
    return store.put(value, store.keyPath ? undefined : this.primaryKey);
  }
  delete() {
    return new MemoryObjectStore(this.source.transaction, this.source.storeName).delete(this.primaryKey);
  }
}
export class MemoryCursorWithValue extends MemoryCursor {}
