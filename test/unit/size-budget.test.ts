/**
 * Size budgets, enforced: the widget is built from source into a temporary directory (the
 * same build `npm run build` runs) and its gzip sizes are checked. A change that makes the
 * shopper download more than the budget fails here, with the sizes printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Bytes, gzip -9 (kB = 1,000 bytes, as in bench/results.json). */
const LOADER_BUDGET = 10_000;
/** The engine chunk, what every shopper's worker runs: 52.9 kB since the in-memory store left it. */
const WORKER_BUDGET = 60_000;
/** The in-memory store (widget/engine/memory-indexeddb.ts), fetched only by a worker that may not use the device's storage: 2.9 kB (fake-indexeddb, before it, was 15.2). */
const MEMORY_STORE_BUDGET = 4_000;
/** A worker in memory loads both. */
const MEMORY_WORKER_BUDGET = WORKER_BUDGET + MEMORY_STORE_BUDGET;
/** The renderer chunk: preact and the creative components, on the page's main thread. */
const RENDER_BUDGET = 15_000;

const root = path.resolve(import.meta.dirname, '../..');
const out = mkdtempSync(path.join(tmpdir(), 'vitrine-size-'));
const gz = (file: string) => gzipSync(readFileSync(file), { level: 9 }).length;
let sizes: Record<string, number> = {};

beforeAll(() => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-widget.ts'], {
    cwd: root,
    env: { ...process.env, VITRINE_ASSETS_DIR: out },
    stdio: 'pipe',
  });
  sizes = { 'vitrine.js': gz(path.join(out, 'vitrine.js')) };
  for (const chunk of readdirSync(path.join(out, 'chunks'))) sizes[`chunks/${chunk}`] = gz(path.join(out, 'chunks', chunk));
  console.log(
    `widget sizes, gzip bytes:\n${Object.entries(sizes)
      .map(([f, n]) => `  ${f}: ${n}`)
      .join('\n')}`,
  );
}, 120_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('size budgets', () => {
  it(`keeps the loader (the script tag) within ${LOADER_BUDGET / 1000} kB gzip`, () => {
    expect(sizes['vitrine.js'], `vitrine.js is ${sizes['vitrine.js']} bytes gzip`).toBeLessThanOrEqual(LOADER_BUDGET);
  });

  it(`keeps the engine worker chunk within ${WORKER_BUDGET / 1000} kB gzip`, () => {
    const engine = Object.keys(sizes).filter((f) => /^chunks\/engine-[\w-]+\.js$/.test(f));
    expect(engine).toHaveLength(1);
    expect(sizes[engine[0]!], `${engine[0]} is ${sizes[engine[0]!]} bytes gzip`).toBeLessThanOrEqual(WORKER_BUDGET);
  });

  it(`keeps the renderer chunk within ${RENDER_BUDGET / 1000} kB gzip`, () => {
    const render = Object.keys(sizes).filter((f) => /^chunks\/render-[\w-]+\.js$/.test(f));
    expect(render).toHaveLength(1);
    expect(sizes[render[0]!], `${render[0]} is ${sizes[render[0]!]} bytes gzip`).toBeLessThanOrEqual(RENDER_BUDGET);
  });

  it(`keeps the in-memory store within ${MEMORY_STORE_BUDGET / 1000} kB gzip, and everything a worker in memory loads within ${MEMORY_WORKER_BUDGET / 1000} kB`, () => {
    const store = Object.keys(sizes).filter((f) => /^chunks\/memory-store-[\w-]+\.js$/.test(f));
    expect(store).toHaveLength(1);
    expect(sizes[store[0]!], `${store[0]} is ${sizes[store[0]!]} bytes gzip`).toBeLessThanOrEqual(MEMORY_STORE_BUDGET);
    // Nothing else is ever loaded into the worker: the engine and the store are the only chunks besides the renderer.
    const workerChunks = Object.keys(sizes).filter((f) => f.startsWith('chunks/') && !/^chunks\/render-/.test(f));
    expect(workerChunks.map((f) => /^chunks\/(engine|memory-store)-[\w-]+\.js$/.exec(f)?.[1] ?? f).sort()).toEqual(['engine', 'memory-store']);
    const total = workerChunks.reduce((sum, f) => sum + sizes[f]!, 0);
    expect(total, `a worker in memory: ${total} bytes gzip`).toBeLessThanOrEqual(MEMORY_WORKER_BUDGET);
  });
});
