/**
 * `npm run bench`: the figures the README reports, measured on this machine, written to
 * bench/results.json (one flat object of numbers; null where a step could not run).
 *
 *   loader_gzip_kb, worker_gzip_kb         sizes of the built widget (gzip -9, kB = 1000 bytes)
 *   record_event_p50_ms / _p95_ms           record one event with 2,000 stored (Chromium, IndexedDB, in a worker)
 *   profile_read_p50_ms / _p95_ms           read the profile for a decision (same)
 *   idb_write_floor_p50_ms / _p95_ms        one bare readwrite transaction with one put: what IndexedDB itself costs
 *   first_creative_ms_cold / _warm          DOMContentLoaded to creative painted, demo product page (median of 5)
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import type { Browser } from '@playwright/test';
import { build } from 'vite';

const root = path.resolve(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const results: Record<string, number | null> = {};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 1000) / 1000;

function sizes(): void {
  const assets = path.join(root, 'dist/edge-assets/v1');
  const gz = (file: string) => round(gzipSync(readFileSync(file), { level: 9 }).length / 1000);
  results.loader_gzip_kb = gz(path.join(assets, 'vitrine.js'));
  const engine = readdirSync(path.join(assets, 'chunks')).find((f) => f.startsWith('engine-'))!;
  results.worker_gzip_kb = gz(path.join(assets, 'chunks', engine));
}

async function storeBench(browser: Browser): Promise<void> {
  const out = path.join(root, 'dist/bench');
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: { outDir: out, emptyOutDir: true, minify: true, lib: { entry: path.join(root, 'bench/store-bench.worker.ts'), formats: ['es'], fileName: () => 'store-bench.js' } },
  });
  const server = createServer((req, res) => {
    if (req.url === '/store-bench.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(readFileSync(path.join(out, 'store-bench.js')));
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>store bench</title>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    // Browser-side code is passed as text: tsx would otherwise inject helpers the page lacks.
    const outcome = (await page.evaluate(`new Promise((resolve) => {
      const worker = new Worker('/store-bench.js', { type: 'module' });
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => resolve({ ok: false, error: e.message });
    })`)) as { ok: boolean; result?: Record<string, number>; error?: string };
    if (!outcome.ok) throw new Error(outcome.error);
    const { stored: _, ...figures } = outcome.result!;
    for (const [k, v] of Object.entries(figures)) results[k] = round(v);
    await page.close();
  } finally {
    server.close();
  }
}

async function firstCreative(browser: Browser): Promise<void> {
  const edgePort = 8799;
  const shopPort = 5185;
  const stack = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    env: { ...process.env, VITRINE_EDGE_PORT: String(edgePort), VITRINE_SHOP_PORT: String(shopPort), VITRINE_STATE_DIR: '.wrangler/bench-state', VITRINE_SKIP_BUILD: '1', VITRINE_FRESH: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      stack.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Vitrine is running') && resolve());
      stack.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
    });
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      for (const list of [cold, warm]) {
        await page.goto(`http://127.0.0.1:${shopPort}/product/watches-${i + 1}`);
        list.push(
          (await page.evaluate(`new Promise((resolve) => {
            const check = () => {
              const nav = performance.getEntriesByType('navigation')[0];
              const painted = document.querySelector('[data-vitrine-slot="hero"]')?.shadowRoot?.querySelector('a.creative');
              if (painted && nav.domContentLoadedEventEnd > 0) requestAnimationFrame(() => resolve(performance.now() - nav.domContentLoadedEventEnd));
              else requestAnimationFrame(check);
            };
            check();
          })`)) as number,
        );
      }
      await context.close();
    }
    results.first_creative_ms_cold = round(median(cold));
    results.first_creative_ms_warm = round(median(warm));
  } finally {
    stack.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  if (!existsSync(path.join(root, 'dist/edge-assets/v1/vitrine.js'))) throw new Error('run npm run build first');
  sizes();
  if (!existsSync(CHROMIUM)) {
    console.error(`no ${CHROMIUM}: browser figures are recorded as null (sudo apt-get install -y chromium)`);
    for (const k of ['record_event_p50_ms', 'record_event_p95_ms', 'profile_read_p50_ms', 'profile_read_p95_ms', 'idb_write_floor_p50_ms', 'idb_write_floor_p95_ms', 'first_creative_ms_cold', 'first_creative_ms_warm']) results[k] = null;
  } else {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      await storeBench(browser);
      await firstCreative(browser);
    } finally {
      await browser.close();
    }
  }
  writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('| figure | value |\n|---|---|');
  for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v ?? 'n/a'} |`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
