/**
 * The simulation's device threads (device-worker.ts), one per core asked for: shopper `id` lives
 * in thread `id mod n` for the whole run (its storage, address and random stream stay there), so
 * a run's draws do not depend on how many threads share the work. A round's visits run in every
 * thread at once; what they measured is added up here.
 */
import { Worker } from 'node:worker_threads';
import type { DeviceThreadAnswer, DeviceThreadInit, DeviceThreadMessage, VisitAnswer, VisitJob } from './device-worker.ts';
import { addSums, emptySums } from './shopper-visits.ts';

const WORKER = new URL('./device-worker.ts', import.meta.url).href;

/** A thread and its one message in flight. */
class DeviceThread {
  private readonly worker: Worker;
  private pending: { resolve: (a: VisitAnswer | null) => void; reject: (e: Error) => void } | null = null;

  constructor() {
    // TypeScript in a thread: tsx's loader registered in it before the module is imported.
    // A young generation larger than V8's default: a visit allocates briefly and much (score
    // draws, tensors, IndexedDB clones), and fewer scavenges were a few percent of a visit. An
    // old generation of 8 GB: a thread keeps its shoppers' stores all run (10,000 at 20,000 shoppers).
    this.worker = new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(WORKER)}); })`, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 96, maxOldGenerationSizeMb: 8192 },
    });
    this.worker.on('message', (a: DeviceThreadAnswer) => {
      const p = this.pending;
      this.pending = null;
      if (a.ok) p?.resolve(a.answer);
      else p?.reject(new Error(`a device thread failed: ${a.error}`));
    });
    this.worker.on('error', (e) => {
      this.pending?.reject(e);
      this.pending = null;
    });
  }

  send(message: DeviceThreadMessage): Promise<VisitAnswer | null> {
    if (this.pending) throw new Error('a device thread takes one message at a time');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

export class DevicePool {
  private constructor(private readonly threads: DeviceThread[]) {}

  static async start(threads: number, init: DeviceThreadInit): Promise<DevicePool> {
    const pool = new DevicePool(Array.from({ length: threads }, () => new DeviceThread()));
    try {
      await Promise.all(pool.threads.map((t) => t.send({ kind: 'init', init })));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** The visits of `ids`, each in its shopper's thread, all threads at once; their sums and norms added up. */
  async visit(ids: readonly number[], job: Omit<VisitJob, 'ids'>): Promise<VisitAnswer> {
    const n = this.threads.length;
    const answers = await Promise.all(this.threads.map((t, k) => t.send({ kind: 'visit', job: { ...job, ids: ids.filter((id) => id % n === k) } })));
    const total: VisitAnswer = { sums: emptySums(), norms: [], opeNorms: [], offsetNorms: [] };
    for (const a of answers) {
      if (!a) continue;
      addSums(total.sums, a.sums);
      total.norms.push(...a.norms);
      total.opeNorms.push(...a.opeNorms);
      total.offsetNorms.push(...a.offsetNorms);
    }
    return total;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}
