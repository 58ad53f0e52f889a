/**
 * Runs inside a Web Worker in Chromium, on real IndexedDB: the store's own cost of writing one
 * event (one readwrite transaction: event, profile, retention) and of reading the profile, with
 * 2,000 events already stored. The engine no longer waits for either (it decides from its copy
 * in memory and writes behind: decide-bench.worker.ts times what the page waits for).
 */
import { deleteDB } from 'idb';
import { databaseName, openDeviceStore } from '../widget/engine/device-store.ts';
import { readProfile, recordEvents } from '../widget/engine/event-log.ts';

const STORED = 2000;
const SAMPLES = 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function run() {
  const site = 'bench';
  await deleteDB(databaseName(site));
  const db = await openDeviceStore(site);
  const categories = ['sneakers', 'jackets', 'shirts', 'trousers', 'bags', 'hats', 'watches', 'sunglasses'];
  const now = Date.now();
  // Fill in batches (one transaction per 100) so the fill itself is quick.
  for (let i = 0; i < STORED; i += 100) {
    await recordEvents(
      db,
      Array.from({ length: 100 }, (_, k) => ({
        type: 'product_view' as const,
        at: now - (STORED - i - k) * 1000,
        category: categories[(i + k) % 8],
        price: 20 + ((i + k) % 200),
      })),
    );
  }
  // The three measurements are interleaved, one of each per iteration, so that whatever else the
  // machine is doing at a moment weighs on all three alike and the ratios stay meaningful.
  const record: number[] = [];
  const read: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    let t0 = performance.now();
    await recordEvents(db, [{ type: 'product_view', at: Date.now(), category: categories[i % 8], price: 50 }]);
    record.push(performance.now() - t0);
    t0 = performance.now();
    await readProfile(db);
    read.push(performance.now() - t0);
    // The floor: one relaxed readwrite transaction with a single small put, nothing else.
    t0 = performance.now();
    const tx = db.transaction('ledger', 'readwrite', { durability: 'relaxed' });
    await Promise.all([tx.store.put({ round: i, reportId: 'bench', at: i }), tx.done]);
    floor.push(performance.now() - t0);
  }
  const stored = await db.count('events');
  db.close();
  await deleteDB(databaseName(site));
  record.sort((a, b) => a - b);
  read.sort((a, b) => a - b);
  floor.sort((a, b) => a - b);
  return {
    stored,
    idb_record_event_p50_ms: percentile(record, 0.5),
    idb_record_event_p95_ms: percentile(record, 0.95),
    idb_profile_read_p50_ms: percentile(read, 0.5),
    idb_profile_read_p95_ms: percentile(read, 0.95),
    idb_write_floor_p50_ms: percentile(floor, 0.5),
    idb_write_floor_p95_ms: percentile(floor, 0.95),
  };
}

run().then(
  (result) => postMessage({ ok: true, result }),
  (e) => postMessage({ ok: false, error: String(e) }),
);
