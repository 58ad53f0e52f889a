/**
 * The in-memory store, for an engine that may not write to the device (consent pending) or whose
 * IndexedDB failed: a small IndexedDB in the worker's memory (memory-indexeddb.ts, memory-idb-database.ts) installed as
 * this worker's IndexedDB, then the mark the engine checks before it opens an in-memory database
 * (without it, storage 'memory' would open the device's real IndexedDB).
 *
 * Built as its own script (`--mode memory-store`, chunks/memory-store-<hash>.js) that the loader
 * puts in front of the engine's text in the worker's blob only when that worker runs in memory.
 */
import { installMemoryIndexedDB } from './memory-idb-database.ts';
import { MEMORY_STORE_MARK } from './memory-store-mark.ts';

installMemoryIndexedDB();
(globalThis as Record<string, unknown>)[MEMORY_STORE_MARK] = true;
