/** The global the in-memory store (memory-store.ts) sets in its worker once it is installed there. */
export const MEMORY_STORE_MARK = '__vitrineMemoryStore';

/** Whether this worker's IndexedDB is the in-memory store (never the device's own). */
export const memoryStoreInstalled = (): boolean => (globalThis as Record<string, unknown>)[MEMORY_STORE_MARK] === true;
