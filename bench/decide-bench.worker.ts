/**
 * Runs inside a Web Worker in Chromium: the engine's decide() on real IndexedDB against a
 * config of 50, 200 and 1,000 candidates (served by bench/run.ts), warm; then the scoring
 * alone (what a decision computes: the shopper tower, cross features and phi for every
 * candidate, the creative tower's output being kept between decisions) with tfjs on the CPU backend the widget
 * ships, with tfjs on the WASM backend, and as a plain Float32Array loop: the floor.
 */
import { io, setBackend } from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { deleteDB } from 'idb';
import { CREATIVE_DIM, CROSS_DIM, crossRows, encodeCreative, encodeShopper } from '../protocol/features.ts';
import type { PageContext } from '../protocol/features.ts';
import { emptyProfile } from '../protocol/profile.ts';
import type { ShopperProfile } from '../protocol/profile.ts';
import { applyEvent } from '../protocol/profile-updates.ts';
import type { ModelJson } from '../protocol/model-artifact.ts';
import type { Candidate, SiteConfig } from '../protocol/wire.ts';
import { databaseName } from '../widget/engine/device-store.ts';
import { DeviceEngine } from '../widget/engine/device-engine.ts';
import { loadScoringModel } from '../widget/engine/scoring-model.ts';
import { registerModelKernels } from '../widget/engine/tfjs-kernels.ts';

const SIZES = [50, 200, 1000];
const WARMUP = 20;
const SAMPLES = 200;
const PAGE: PageContext = { pageType: 'product', category: 'bags', hour: 12, device: 'desktop' };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/**
 * p50 and p95 of f's duration. Workers that are not cross-origin isolated see a clock with
 * 0.1 ms steps, so work far below that is timed `repeat` times in a row and divided.
 */
async function timed(f: () => unknown | Promise<unknown>, repeat = 1): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < WARMUP; i++) await f();
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    for (let r = 0; r < repeat; r++) await f();
    xs.push((performance.now() - t0) / repeat);
  }
  xs.sort((a, b) => a - b);
  return { p50: percentile(xs, 0.5), p95: percentile(xs, 0.95) };
}

const dense = (x: Float32Array, xAt: number, inDim: number, W: Float32Array, b: Float32Array, outDim: number, relu: boolean, out: Float32Array) => {
  for (let j = 0; j < outDim; j++) {
    let s = b[j]!;
    for (let k = 0; k < inDim; k++) s += x[xAt + k]! * W[k * outDim + j]!;
    out[j] = relu && s < 0 ? 0 : s;
  }
};

/** The creative tower for every row: the engine keeps these between decisions, and so does the floor. */
function floorCreativeEmbeddings(w: Record<string, Float32Array>, t: ModelJson['topology'], creatives: Float32Array, n: number): Float32Array {
  const h = new Float32Array(t.hidden);
  const v = new Float32Array(n * t.embed);
  const row = new Float32Array(t.embed);
  for (let i = 0; i < n; i++) {
    dense(creatives, i * t.creativeDim, t.creativeDim, w['creative/w1']!, w['creative/b1']!, t.hidden, true, h);
    dense(h, 0, t.hidden, w['creative/w2']!, w['creative/b2']!, t.embed, false, row);
    v.set(row, i * t.embed);
  }
  return v;
}

/** What the engine computes per decision (shopper tower, cross features, phi), as plain loops over Float32Arrays. */
function floorScoring(
  w: Record<string, Float32Array>,
  t: ModelJson['topology'],
  shopper: Float32Array,
  profile: ShopperProfile,
  candidates: Candidate[],
  v: Float32Array,
  n: number,
): Float32Array {
  const h = new Float32Array(t.hidden);
  const u = new Float32Array(t.embed);
  dense(shopper, 0, t.shopperDim, w['shopper/w1']!, w['shopper/b1']!, t.hidden, true, h);
  dense(h, 0, t.hidden, w['shopper/w2']!, w['shopper/b2']!, t.embed, false, u);
  const cross = crossRows(profile, PAGE, candidates);
  const d = t.embed + CROSS_DIM + 1;
  const phi = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < t.embed; j++) phi[i * d + j] = u[j]! * v[i * t.embed + j]!;
    for (let j = 0; j < CROSS_DIM; j++) phi[i * d + t.embed + j] = cross[i * CROSS_DIM + j]!;
    phi[i * d + d - 1] = 1;
  }
  return phi;
}

async function run(): Promise<Record<string, number>> {
  const origin = self.location.origin;
  registerModelKernels();
  await setBackend('cpu');
  const out: Record<string, number> = {};
  for (const n of SIZES) {
    const site = `bench-${n}`;
    await deleteDB(databaseName(site));
    const engine = new DeviceEngine();
    const status = await engine.start({ edge: origin, site, storage: 'persistent', reporting: false });
    if (status.state !== 'ready' || status.modelVersion === null) throw new Error(`engine for ${site}: ${JSON.stringify(status)}`);
    const now = Date.now();
    const history = n === 200 ? 2000 : 50;
    await engine.track(
      Array.from({ length: history }, (_, i) => ({
        type: 'product_view' as const,
        at: now - (history - i) * 60_000,
        category: ['bags', 'hats', 'watches'][i % 3],
        price: 40 + i,
      })),
    );
    const t = await timed(() => engine.decide(['hero'], PAGE));
    out[`decide_p50_ms_${n}`] = t.p50;
    out[`decide_p95_ms_${n}`] = t.p95;
    if (n === 200) {
      // Recording an event as the page waits for it: folded into the engine's profile at once,
      // written behind (the writes run meanwhile, on the same worker, and weigh on these figures).
      let i = 0;
      const record = await timed(() => engine.track([{ type: 'product_view', at: Date.now(), category: ['bags', 'hats'][i++ % 2], price: 50 }]));
      out.record_event_p50_ms = record.p50;
      out.record_event_p95_ms = record.p95;
      // Reading the profile for a decision: the engine's copy in memory, into the shopper's features.
      const exported = JSON.parse(await engine.exportData()) as { profile: ShopperProfile };
      const read = await timed(() => encodeShopper(exported.profile, PAGE, Date.now()), 10);
      out.profile_read_p50_ms = read.p50;
      out.profile_read_p95_ms = read.p95;
    }
    await deleteDB(databaseName(site)); // the engine's connection steps aside (blocking handler)
  }

  // Scoring alone, 200 candidates: tfjs CPU (what the widget ships), tfjs WASM, and the floor.
  const config = (await (await fetch(`${origin}/v1/sites/bench-200/config`)).json()) as SiteConfig;
  const n = config.candidates.length;
  const profile = emptyProfile(Date.now());
  applyEvent(profile, { type: 'product_view', at: Date.now(), category: 'bags', price: 60 });
  const shopper = encodeShopper(profile, PAGE, Date.now());
  const creatives = new Float32Array(n * CREATIVE_DIM);
  config.candidates.forEach((c, i) => creatives.set(encodeCreative(c, 'hero'), i * CREATIVE_DIM));
  const cpuModel = await loadScoringModel(origin, config.model!);
  // Both sides include the cross features (the engine computes them per decision too).
  const cpu = await timed(() => cpuModel.headFeatures(shopper, creatives, crossRows(profile, PAGE, config.candidates), n), 10);
  const modelJson = (await (await fetch(new URL(config.model!.url, origin))).json()) as ModelJson;
  const weightsBuffer = await (await fetch(new URL('weights.bin', new URL(config.model!.url, origin)))).arrayBuffer();
  const named = io.decodeWeights(weightsBuffer, modelJson.weightsManifest[0].weights);
  const raw = Object.fromEntries(Object.entries(named).map(([k, t]) => [k, t.dataSync() as Float32Array]));
  const embedded = floorCreativeEmbeddings(raw, modelJson.topology, creatives, n);
  const floor = await timed(() => floorScoring(raw, modelJson.topology, shopper, profile, config.candidates, embedded, n), 10);
  // The two must agree, or the floor measures something else.
  const a = cpuModel.headFeatures(shopper, creatives, crossRows(profile, PAGE, config.candidates), n);
  const b = floorScoring(raw, modelJson.topology, shopper, profile, config.candidates, embedded, n);
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  if (maxDiff > 1e-4) throw new Error(`the floor loop disagrees with tfjs by ${maxDiff}`);
  setWasmPaths(`${origin}/wasm/`);
  await setBackend('wasm');
  const wasmModel = await loadScoringModel(origin, config.model!);
  const wasm = await timed(() => wasmModel.headFeatures(shopper, creatives, crossRows(profile, PAGE, config.candidates), n), 10);
  out.score_200_tfjs_cpu_p50_ms = cpu.p50;
  out.score_200_tfjs_cpu_p95_ms = cpu.p95;
  out.score_200_tfjs_wasm_p50_ms = wasm.p50;
  out.score_200_tfjs_wasm_p95_ms = wasm.p95;
  out.score_200_floor_p50_ms = floor.p50;
  out.score_200_floor_p95_ms = floor.p95;
  out.score_200_tfjs_cpu_over_floor = cpu.p50 / Math.max(floor.p50, 0.01);
  return out;
}

run().then(
  (result) => postMessage({ ok: true, result }),
  (e) => postMessage({ ok: false, error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }),
);
