/**
 * Running the edge worker locally with wrangler dev: migrations applied to the local D1, state
 * persisted under the given folder, and workerd stopped with its whole process group.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const wrangler = path.join(root, 'node_modules/.bin/wrangler');
const quietEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1' };

/** Resolves if `port` can be bound on 127.0.0.1; rejects with a one-line reason naming it. */
export function assertPortFree(port: number, envName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new Error(`port ${port} on 127.0.0.1 is in use; stop what uses it or set ${envName}`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

export function applyMigrations(persistTo: string): void {
  const result = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'vitrine', '--local', '--persist-to', persistTo], {
    cwd: root,
    env: { ...quietEnv, CI: 'true' }, // CI=true: no interactive confirmation
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`applying D1 migrations failed:\n${result.stdout}\n${result.stderr}`);
}

export interface LocalEdge {
  url: string;
  stop(): void;
}

export interface LocalEdgeOptions {
  /**
   * Run the test build (edge-worker/src/test-worker.ts) with its controls enabled, so the caller
   * can close a round by a call (tests, the simulator, the e2e stack): never what a shop deploys.
   */
  testControls?: boolean;
}

export async function startLocalEdge(port: number, persistTo: string, vars: Record<string, string>, options: LocalEdgeOptions = {}): Promise<LocalEdge> {
  // Another edge on the port would answer the readiness probe below, and its caller would use it
  // unknowingly (two simulations on one port mixed their rounds): refused here instead.
  await assertPortFree(port, 'another port');
  // Its own inspector port too (10,000 away): two edges started at once (simulate:worlds --parallel 2) both
  // asked for the default 9229, and the second exited ("Address already in use").
  const args = [
    'dev',
    ...(options.testControls ? ['edge-worker/src/test-worker.ts'] : []),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(port + 10_000 <= 65_535 ? port + 10_000 : port - 10_000),
    '--persist-to',
    persistTo,
    '--show-interactive-dev-session=false',
    '--log-level',
    'warn',
  ];
  for (const [k, v] of Object.entries({ ...vars, ...(options.testControls ? { TEST_CONTROLS: 'enabled' } : {}) })) args.push('--var', `${k}:${v}`);
  const child: ChildProcess = spawn(wrangler, args, { cwd: root, env: quietEnv, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
  const stop = () => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM'); // the group: wrangler and its workerd children
      } catch {
        // already gone
      }
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/v1/sites/-/config`);
      if (r.status === 400 || r.status === 404) break; // the worker answers
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stop();
      throw new Error('wrangler dev did not answer within 60 s');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, stop };
}

/**
 * Ends `site`'s open round now through the test controls of a local edge started with
 * `testControls` (edge-worker/src/test-controls.ts): a test or simulation closes its round when
 * its devices have reported, instead of waiting for the deadline. Answers the closed round and the open one.
 */
export async function closeOpenRound(edgeUrl: string, site: string, adminToken: string): Promise<{ closed: number; open: number }> {
  const r = await fetch(`${edgeUrl}/v1/test/sites/${site}/rounds/close`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
  if (!r.ok) throw new Error(`closing the open round of ${site} failed: ${r.status} ${await r.text()}`);
  return (await r.json()) as { closed: number; open: number };
}
