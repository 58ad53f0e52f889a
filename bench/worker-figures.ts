/**
 * The engine's own work, timed in a Web Worker of real Chromium: recording events and reading
 * the profile (in memory and on IndexedDB), and deciding for 50, 200 and 1,000 candidates.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from '@playwright/test';
import { build } from 'vite';
import { MESSAGE_TYPES } from '../protocol/catalog.ts';
import { modelVersion } from '../protocol/model-artifact.ts';
import type { Candidate } from '../protocol/wire.ts';
import { trainBootstrapModel } from '../model-training/src/bootstrap-model.ts';
import { PRODUCTS, TEMPLATES } from '../test/fixtures/storefront/demo-catalog.ts';
import { demoCandidates } from '../test/fixtures/storefront/demo-candidates.ts';
import { siteConfigFixture } from '../test/fixtures/site-config.ts';
import { root, round } from './bench-common.ts';
import type { Figures } from './bench-common.ts';

/**
 * Builds `entry` (a bench worker) with vite, serves it with `routes` from a local server, runs
 * it in a Web Worker of a page on that server, and returns what it posts back.
 */
async function runBenchWorker(
  browser: Browser,
  entry: string,
  routes: Record<string, () => { type: string; body: string | Buffer }> = {},
): Promise<Record<string, number>> {
  const out = path.join(root, 'dist/bench');
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: { outDir: out, emptyOutDir: true, minify: true, lib: { entry: path.join(root, entry), formats: ['es'], fileName: () => 'bench-worker.js' } },
  });
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://bench.local').pathname;
    const built = path.join(out, path.basename(pathname));
    const route = pathname.endsWith('.js') && existsSync(built) ? () => ({ type: 'text/javascript', body: readFileSync(built) }) : routes[pathname];
    if (route) {
      const { type, body } = route();
      res.writeHead(200, { 'content-type': type });
      return res.end(body);
    }
    if (pathname !== '/') {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>bench</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    // Browser-side code is passed as text: tsx would otherwise inject helpers the page lacks.
    const outcome = (await page.evaluate(`new Promise((resolve) => {
      const worker = new Worker('/bench-worker.js', { type: 'module' });
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => resolve({ ok: false, error: e.message });
    })`)) as { ok: boolean; result?: Record<string, number>; error?: string };
    await page.close();
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.result!;
  } finally {
    server.close();
  }
}

export async function storeBench(results: Figures, browser: Browser): Promise<void> {
  const { stored: _, ...figures } = await runBenchWorker(browser, 'bench/store-bench.worker.ts');
  for (const [k, v] of Object.entries(figures)) results[k] = round(v);
}

/** N synthetic candidates over the demo catalog (every product, every template, cycled). */
function syntheticCandidates(n: number): Candidate[] {
  return Array.from({ length: n }, (_, i) => {
    const p = PRODUCTS[i % PRODUCTS.length]!;
    const t = TEMPLATES[i % TEMPLATES.length]!;
    return {
      id: `c-${i}`,
      templateId: t.id,
      layout: t.layout,
      messageType: MESSAGE_TYPES[i % MESSAGE_TYPES.length]!,
      category: p.category,
      brand: p.brand,
      price: p.price,
      productName: p.name,
      imageUrl: p.imageUrl,
      url: p.url,
      popularity: p.popularity,
      listPrice: null,
      items: [],
    };
  });
}

export async function decideBench(results: Figures, browser: Browser): Promise<void> {
  // The demo's model (trained once and cached in .vitrine/models by npm start, or here).
  const { model, weights } = await trainBootstrapModel(demoCandidates(), { examples: 40_000, cacheDir: path.join(root, '.vitrine/models'), log: console.log });
  const modelText = JSON.stringify(model);
  const version = await modelVersion(modelText, weights);
  const routes: Record<string, () => { type: string; body: string | Buffer }> = {
    [`/v1/models/${version}/model.json`]: () => ({ type: 'application/json', body: modelText }),
    [`/v1/models/${version}/weights.bin`]: () => ({ type: 'application/octet-stream', body: Buffer.from(weights) }),
  };
  for (const n of [50, 200, 1000]) {
    const config = siteConfigFixture({
      site: `bench-${n}`,
      frequencyCapPerDay: 0,
      candidates: syntheticCandidates(n),
      model: { version, specHash: model.specHash, url: `/v1/models/${version}/model.json` },
    });
    routes[`/v1/sites/bench-${n}/config`] = () => ({ type: 'application/json', body: JSON.stringify(config) });
  }
  const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')))
    routes[`/wasm/${f}`] = () => ({ type: 'application/wasm', body: readFileSync(path.join(wasmDir, f)) });
  for (const [k, v] of Object.entries(await runBenchWorker(browser, 'bench/decide-bench.worker.ts', routes))) results[k] = round(v);
}
