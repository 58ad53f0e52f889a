/**
 * `npm start`: build the widget, run the edge worker locally (wrangler dev, seeded), and serve
 * the demo storefront that embeds it. Ctrl-C stops everything.
 *
 * Environment: VITRINE_EDGE_PORT (8787), VITRINE_SHOP_PORT (5173), VITRINE_STATE_DIR
 * (.wrangler/state), VITRINE_ADMIN_TOKEN (the demo site's local admin token),
 * VITRINE_SKIP_BUILD=1 (use the existing dist/), VITRINE_FRESH=1 (start from empty state),
 * VITRINE_HOLDOUT_SHARE (the demo site's holdoutShare; the e2e tests and the bench: 0, a creative on every page),
 * VITRINE_ANSWER_MS (the shop's pages give the widget this data-answer-ms; the e2e tests: 5000),
 * VITRINE_RECORD_EGRESS=1 (the e2e tests: the edge port is a recording proxy, test/fixtures/
 * egress-recorder.ts, and wrangler listens on the next port), VITRINE_TEST_CONTROLS=1 (the e2e
 * tests: the edge's test build, whose test controls close a round by a call; never for a shop).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { createEgressRecorder } from '../test/fixtures/egress-recorder.ts';
import { createShopServer } from '../test/fixtures/storefront/shop-server.ts';
import { DEMO_SITE } from '../test/fixtures/storefront/demo-catalog.ts';
import { applyMigrations, assertPortFree, startLocalEdge } from './local-edge.ts';
import type { LocalEdge } from './local-edge.ts';
import { seedDemo } from './seed-demo.ts';

const root = path.resolve(import.meta.dirname, '..');
export const DEV_ADMIN_TOKEN = 'local-demo-admin-token-change-me';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name}=${raw} is not a port number`);
  return value;
}

async function main(): Promise<void> {
  const edgePort = port('VITRINE_EDGE_PORT', 8787);
  const shopPort = port('VITRINE_SHOP_PORT', 5173);
  const stateDir = path.resolve(root, process.env.VITRINE_STATE_DIR ?? '.wrangler/state');
  const token = process.env.VITRINE_ADMIN_TOKEN ?? DEV_ADMIN_TOKEN;
  await assertPortFree(edgePort, 'VITRINE_EDGE_PORT');
  await assertPortFree(shopPort, 'VITRINE_SHOP_PORT');
  const recording = process.env.VITRINE_RECORD_EGRESS === '1';
  const workerPort = recording ? edgePort + 1 : edgePort;
  if (recording) await assertPortFree(workerPort, 'VITRINE_EDGE_PORT (and the port after it)');

  if (process.env.VITRINE_SKIP_BUILD !== '1') {
    const build = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-widget.ts'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('the widget build failed');
  }
  if (process.env.VITRINE_FRESH === '1') rmSync(stateDir, { recursive: true, force: true });
  applyMigrations(stateDir);

  let edge: LocalEdge | null = null;
  const answerMs = process.env.VITRINE_ANSWER_MS ? Number(process.env.VITRINE_ANSWER_MS) : undefined;
  const shop = createShopServer({ edge: `http://127.0.0.1:${edgePort}`, site: DEMO_SITE, answerMs });
  const recorder = recording ? createEgressRecorder(workerPort) : null;
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    edge?.stop();
    shop.close();
    recorder?.close();
    process.exit(code);
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  // Whatever ends this process, workerd must not outlive it.
  process.on('exit', () => edge?.stop());
  process.on('uncaughtException', (e) => {
    console.error('vitrine: unexpected failure:', e);
    stop(1);
  });

  try {
    // VITRINE_EXTRA_ADMIN_TOKENS (JSON {site: token}): more sites on this local edge (the dashboard's tests use two).
    const extra = JSON.parse(process.env.VITRINE_EXTRA_ADMIN_TOKENS ?? '{}') as Record<string, string>;
    edge = await startLocalEdge(
      workerPort,
      stateDir,
      { ADMIN_TOKENS: JSON.stringify({ ...extra, [DEMO_SITE]: token }) },
      { testControls: process.env.VITRINE_TEST_CONTROLS === '1' },
    );
    const shopOrigins = [`http://127.0.0.1:${shopPort}`, `http://localhost:${shopPort}`];
    const holdoutShare = process.env.VITRINE_HOLDOUT_SHARE ? Number(process.env.VITRINE_HOLDOUT_SHARE) : undefined;
    await seedDemo(edge.url, token, shopOrigins, (line) => console.log(line), holdoutShare);
    if (recorder) await listen(recorder, edgePort);
    await listen(shop, shopPort);
  } catch (e) {
    console.error(`vitrine: ${e instanceof Error ? e.message : String(e)}`);
    stop(1);
    return;
  }
  console.log(`\nVitrine is running.
  storefront  http://127.0.0.1:${shopPort}/
  edge        http://127.0.0.1:${edgePort}/v1/sites/${DEMO_SITE}/config
  admin token ${token} (local only)
Press Ctrl-C to stop.`);
}

function listen(server: Server, at: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at, '127.0.0.1', resolve);
  });
}

main().catch((e: unknown) => {
  console.error(`vitrine: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
