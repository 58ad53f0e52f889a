/**
 * `npm run bench`: the figures the README reports, measured on this machine, written to
 * bench/results.json (one flat object of numbers; null where a step could not run).
 *
 *   loader_gzip_kb, worker_gzip_kb         sizes of the built widget (gzip -9, kB = 1000 bytes); memory_store_gzip_kb
 *                                           the in-memory store a worker in memory loads besides the engine
 *   record_event_p50_ms / _p95_ms           engine.track() of one event, 2,000 recorded (Chromium, in a worker): what the
 *                                           page waits for (the profile in memory; the write to IndexedDB goes on behind)
 *   profile_read_p50_ms / _p95_ms           reading the engine's profile (in memory) into a decision's shopper features
 *   idb_record_event_*, idb_profile_read_*  the same two on IndexedDB itself (off the hot path now), 2,000 stored
 *   idb_write_floor_p50_ms / _p95_ms        one bare readwrite transaction with one put: what IndexedDB itself costs
 *   first_creative_ms_cold / _warm          DOMContentLoaded to creative painted, demo product page (median of 5)
 *   first_creative_ms_{cold,warm}_{firefox,webkit}  the same in Debian's Firefox ESR and WebKitGTK (test/browsers/)
 *   worker_heap_mb                          the engine worker's JS heap in use after the warm page (median of 5, DevTools protocol)
 *   ingest_rps, ingest_p99_ms               device reports into the open round, autocannon, 10 connections, 10 s, wrangler dev
 *   noop_rps, noop_p99_ms                   GET /v1/health of the same worker, same run; ingest_noop_ratio = ingest/noop
 *   round_do_reports_per_s                  reports the edge accepted into the round's one Durable Object, per second of the run
 *   ingest_rps_{4,16}_shards, ingest_p99_ms_{4,16}_shards   the same ingestion with the round spread over 4 and 16 aggregators
 *   decide_p50_ms_N / decide_p95_ms_N       engine.decide() for one slot, N = 50, 200, 1000 candidates, warm
 *                                           (profile read, eligibility, scoring, Thompson, decision logged)
 *   score_200_tfjs_{cpu,wasm}_p50_ms/_p95_ms  per-decision scoring of 200 candidates (shopper tower, cross, phi; creative
 *                                           embeddings kept between decisions), tfjs backends
 *   score_200_floor_p50_ms / _p95_ms        the same as a plain Float32Array loop; _tfjs_cpu_over_floor the ratio
 *                                           (decide_floor_ratio is the same figure under issue 8's name)
 *   render_gzip_kb                          the renderer chunk (preact, creatives), loaded by the script tag
 *   page_longtasks_over_50ms                long tasks while the demo product page loads with the widget (median of 5)
 *   page_blocking_ms_added                  total blocking time with the widget minus without it (its script blocked)
 *   page_heap_delta_mb                      the page's JS heap with the widget minus without it
 *   fit_seconds_10k / _100k                 summing N device reports, the round's noise and the trainer's fit (bench/scale.ts)
 *   token_{blind,finalize}_ms_{library,bigint}  a device's two big-number steps of a report token (RSA blind signatures,
 *                                           2048-bit key, Node): the library's sjcl arithmetic against the engine's BigInt
 *                                           (widget/engine/report-token-blinding.ts), mean of 40
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/browsers/chromium-session.ts';
import { root, round, SHARDED_SITES, withLocalStack } from './bench-common.ts';
import type { Figures } from './bench-common.ts';
import { ingestBench } from './ingest-figures.ts';
import { firstCreative, firstCreativeInOtherEngines, pageCost } from './page-figures.ts';
import { scaleRun } from './scale.ts';
import { tokenBench } from './token-figures.ts';
import { decideBench, storeBench } from './worker-figures.ts';

const results: Figures = {};

export function sizes(results: Figures): void {
  const assets = path.join(root, 'dist/edge-assets/v1');
  const gz = (file: string) => round(gzipSync(readFileSync(file), { level: 9 }).length / 1000);
  results.loader_gzip_kb = gz(path.join(assets, 'vitrine.js'));
  const chunk = (kind: string) => readdirSync(path.join(assets, 'chunks')).find((f) => f.startsWith(`${kind}-`));
  const chunkKb = (kind: string) => {
    const file = chunk(kind);
    return file ? gz(path.join(assets, 'chunks', file)) : null;
  };
  results.worker_gzip_kb = chunkKb('engine');
  // Only a worker that may not use the device's storage (consent pending) loads it, with the engine.
  results.memory_store_gzip_kb = chunkKb('memory-store');
  results.render_gzip_kb = chunkKb('render');
}

/** The aggregation and fitting math for 10k and 100k device reports (bench/scale.ts; 1M in the README, run it directly). */
export function scaleFigures(results: Figures): void {
  for (const [n, key] of [
    [10_000, 'fit_seconds_10k'],
    [100_000, 'fit_seconds_100k'],
  ] as const) {
    const f = scaleRun(n);
    results[key] = round(f.aggregate_seconds + f.close_seconds + f.fit_seconds);
  }
}

/** What needs Chromium: recorded as null (not left out) when it is missing. */
const BROWSER_FIGURES = [
  ...['record_event', 'profile_read', 'idb_record_event', 'idb_profile_read', 'idb_write_floor'].flatMap((f) => [`${f}_p50_ms`, `${f}_p95_ms`]),
  ...[50, 200, 1000].flatMap((n) => [`decide_p50_ms_${n}`, `decide_p95_ms_${n}`]),
  ...['tfjs_cpu', 'tfjs_wasm', 'floor'].flatMap((f) => [`score_200_${f}_p50_ms`, `score_200_${f}_p95_ms`]),
  'score_200_tfjs_cpu_over_floor',
  'page_longtasks_over_50ms',
  'page_longtasks_over_50ms_without_widget',
  'page_blocking_ms_added',
  'page_heap_delta_mb',
  'first_creative_ms_cold',
  'first_creative_ms_warm',
  'first_creative_ms_cold_firefox',
  'first_creative_ms_warm_firefox',
  'first_creative_ms_cold_webkit',
  'first_creative_ms_warm_webkit',
  'worker_heap_mb',
  'ingest_rps',
  'ingest_p99_ms',
  'noop_rps',
  'noop_p99_ms',
  'ingest_noop_ratio',
  'round_do_reports_per_s',
  ...SHARDED_SITES.flatMap(([, shards]) => [`ingest_rps_${shards}_shards`, `ingest_p99_ms_${shards}_shards`]),
  'token_issue_ms_mean',
];

/** Parts that can run alone (`npm run bench -- --only=NAME`), their figures written over the last full run's. */
const PARTS: Record<string, { figures: RegExp; run: () => Promise<void> }> = {
  token: { figures: /^token_(blind|finalize)/, run: () => tokenBench(results) },
  ingest: { figures: /ingest|noop|round_do|token_issue/, run: () => withLocalStack(() => ingestBench(results)) },
  page: {
    figures: /^(first_creative|worker_heap|page_|worker_gzip|memory_store_gzip)/,
    run: async () => {
      sizes(results);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        await withLocalStack(async () => {
          await firstCreative(results, browser);
          await firstCreativeInOtherEngines(results);
          await pageCost(results, browser);
        });
      } finally {
        await browser.close();
      }
    },
  },
};

const resultsFile = path.join(root, 'bench/results.json');
const write = () => writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);

async function main(): Promise<void> {
  if (!existsSync(path.join(root, 'dist/edge-assets/v1/vitrine.js'))) throw new Error('run npm run build first');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (only !== undefined) {
    const part = PARTS[only];
    if (!part) throw new Error(`--only=${only}: not one of ${Object.keys(PARTS).join(', ')}`);
    Object.assign(results, JSON.parse(readFileSync(resultsFile, 'utf8')) as Figures);
    await part.run();
    write();
    for (const k of Object.keys(results).filter((k) => part.figures.test(k))) console.log(`| ${k} | ${results[k] ?? 'n/a'} |`);
    return;
  }
  sizes(results);
  scaleFigures(results);
  await tokenBench(results);
  if (!existsSync(CHROMIUM)) {
    console.error(`no ${CHROMIUM}: browser figures are recorded as null (sudo apt-get install -y chromium)`);
    for (const k of BROWSER_FIGURES) results[k] = null;
  } else {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      await storeBench(results, browser);
      await decideBench(results, browser);
      await withLocalStack(async () => {
        await firstCreative(results, browser);
        await firstCreativeInOtherEngines(results);
        await pageCost(results, browser);
        await ingestBench(results);
      });
    } finally {
      await browser.close();
    }
  }
  // The names issue 8 asks for, beside the detailed ones.
  results.decide_floor_ratio = results.score_200_tfjs_cpu_over_floor ?? null;
  // The simulator's figures (sim_*) come from `npm run simulate:worlds` runs, which take tens of
  // minutes: recorded by hand from their logs (docs/lab/benchmarks.md), kept across bench runs.
  if (existsSync(resultsFile)) {
    for (const [k, v] of Object.entries(JSON.parse(readFileSync(resultsFile, 'utf8')) as Figures)) if (k.startsWith('sim_')) results[k] = v;
  }
  write();
  console.log('| figure | value |\n|---|---|');
  for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v ?? 'n/a'} |`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
