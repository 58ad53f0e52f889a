/**
 * Keys of the in-memory IndexedDB (memory-indexeddb.ts): what a key is, IndexedDB's order of keys,
 * key ranges, the key at a key path, and the list of names a database or transaction answers.
 */

export type Key = number | string;
export const isKey = (k: unknown): k is Key => (typeof k === 'number' && !Number.isNaN(k)) || typeof k === 'string';
/** IndexedDB's order: numbers before strings. */
export const compare = (a: Key, b: Key): number => (typeof a === typeof b ? (a < b ? -1 : a > b ? 1 : 0) : typeof a === 'number' ? -1 : 1);

export class MemoryKeyRange {
  constructor(
    readonly lower: Key | undefined,
    readonly upper: Key | undefined,
    readonly lowerOpen = false,
    readonly upperOpen = false,
  ) {}
  static only(k: Key) {
    return new MemoryKeyRange(k, k);
  }
  static lowerBound(k: Key, open = false) {
    return new MemoryKeyRange(k, undefined, open, false);
  }
  static upperBound(k: Key, open = false) {
    return new MemoryKeyRange(undefined, k, false, open);
  }
  static bound(lower: Key, upper: Key, lowerOpen = false, upperOpen = false) {
    return new MemoryKeyRange(lower, upper, lowerOpen, upperOpen);
  }
  includes(k: Key): boolean {
    if (this.lower !== undefined && (this.lowerOpen ? compare(k, this.lower) <= 0 : compare(k, this.lower) < 0)) return false;
    if (this.upper !== undefined && (this.upperOpen ? compare(k, this.upper) >= 0 : compare(k, this.upper) > 0)) return false;
    return true;
  }
}

export type Query = Key | MemoryKeyRange | null | undefined;
export const matches = (query: Query, k: Key) =>
  query === null || query === undefined ? true : query instanceof MemoryKeyRange ? query.includes(k) : compare(query, k) === 0;

export function keyAt(value: unknown, path: string): Key | undefined {
  let v: unknown = value;
  for (const part of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return isKey(v) ? v : undefined;
}

/** What a store or an index lists: [its key, the record's primary key, the record], in order. */

export const namesOf = (names: Iterable<string>) =>
  Object.assign([...names].sort(), {
    contains(this: string[], n: string) {
      return this.includes(n);
    },
    item(this: string[], i: number) {
      return this[i] ?? null;
    },
  });
