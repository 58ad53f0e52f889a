/**
 * A device thread of the simulation (device-pool.ts starts them): it holds a share of the
 * shoppers, each with their own IndexedDB, address and random stream across rounds, and runs
 * their visits with the widget's own engine code when asked. One per core: the engine's
 * decisions (Thompson sampling, the towers in tfjs) are the simulation's CPU.
 */
import { parentPort } from 'node:worker_threads';
import { setBackend } from '@tensorflow/tfjs-core';
import type { Candidate, ModelManifest } from '../protocol/wire.ts';
import { loadScoringModel } from '../widget/engine/scoring-model.ts';
import type { ScoringModel } from '../widget/engine/scoring-model.ts';
import { registerModelKernels } from '../widget/engine/tfjs-kernels.ts';
import { SimulatedDevices } from './device-environment.ts';
import { drift } from './population.ts';
import type { Catalog } from './population.ts';
import { emptySums, simulatedShopper, visitAll } from './shopper-visits.ts';
import type { SimulatedShopper, Sums } from './shopper-visits.ts';
import { WORLDS } from './worlds.ts';

export interface DeviceThreadInit {
  catalog: Catalog;
  seed: number;
  world: string;
  edgeUrl: string;
  /** The frozen first model, scored beside every decision. */
  frozen: ModelManifest;
}

export interface VisitJob {
  site: string;
  /** Shoppers of this thread who visit (ids: the same id is the same shopper every round). */
  ids: number[];
  candidates: Candidate[];
  ago: number;
  round: number;
  rounds: number;
  decisions: number;
  /** How far the visiting shoppers' tastes move first (0: not at all). */
  drift: number;
  /** Whether to collect the reports' head, off-policy and offsets norms (the timing devices). */
  norms: boolean;
}

export interface VisitAnswer {
  sums: Sums;
  norms: number[];
  opeNorms: number[];
  offsetNorms: number[];
}

export type DeviceThreadMessage = { kind: 'init'; init: DeviceThreadInit } | { kind: 'visit'; job: VisitJob };
export type DeviceThreadAnswer = { ok: true; answer: VisitAnswer | null } | { ok: false; error: string };

let init: DeviceThreadInit | null = null;
let frozen: ScoringModel | null = null;
const devices = new SimulatedDevices();
const shoppers = new Map<number, SimulatedShopper>();

async function handle(message: DeviceThreadMessage): Promise<VisitAnswer | null> {
  if (message.kind === 'init') {
    init = message.init;
    registerModelKernels();
    await setBackend('cpu');
    devices.install();
    frozen = await loadScoringModel(init.edgeUrl, init.frozen);
    return null;
  }
  if (!init || !frozen) throw new Error('a device thread was asked to visit before it was set up');
  const { job } = message;
  // The CDN's copy of the config and models may be stale: each round reads them afresh.
  devices.purge();
  const visiting = job.ids.map((id) => {
    let s = shoppers.get(id);
    if (!s) {
      s = simulatedShopper(id, init!.catalog, init!.seed);
      shoppers.set(id, s);
    } else if (job.drift > 0) drift(s.shopper, init!.catalog, job.drift, s.random);
    return s;
  });
  const answer: VisitAnswer = { sums: emptySums(), norms: [], opeNorms: [], offsetNorms: [] };
  await visitAll(visiting, devices, {
    site: job.site,
    catalog: init.catalog,
    candidates: job.candidates,
    sums: answer.sums,
    edgeUrl: init.edgeUrl,
    decisions: job.decisions,
    rounds: job.rounds,
    round: job.round,
    ago: job.ago,
    world: WORLDS[init.world]!,
    frozen,
    ...(job.norms ? { norms: answer.norms, opeNorms: answer.opeNorms, offsetNorms: answer.offsetNorms } : {}),
  });
  return answer;
}

// One message at a time, in order: the pool sends the next only after the answer.
parentPort!.on('message', (message: DeviceThreadMessage) => {
  handle(message).then(
    (answer) => parentPort!.postMessage({ ok: true, answer } satisfies DeviceThreadAnswer),
    (e: unknown) => parentPort!.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies DeviceThreadAnswer),
  );
});
