/** What every part of `npm run bench` shares: the figures' record, the small statistics, the local stack. */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** One flat object of numbers; null where a step could not run (bench/results.json). */
export type Figures = Record<string, number | null>;

export const root = path.resolve(import.meta.dirname, '..');
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const round = (x: number) => Math.round(x * 1000) / 1000;

export const EDGE_PORT = 8799;
export const SHOP_PORT = 5185;
export const ADMIN_TOKEN = 'bench-demo-admin-token-0000';
/** Sites whose rounds are spread over several aggregators (the demo site's have one): [site, shards]. */
export const SHARDED_SITES = [
  ['shards-4', 4],
  ['shards-16', 16],
] as const;

/** `npm start` on its own ports and state, seeded: the stack the page and ingestion figures run against. */
export async function withLocalStack(run: () => Promise<void>): Promise<void> {
  const stack = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      VITRINE_EDGE_PORT: String(EDGE_PORT),
      VITRINE_SHOP_PORT: String(SHOP_PORT),
      VITRINE_STATE_DIR: '.wrangler/bench-state',
      VITRINE_SKIP_BUILD: '1',
      VITRINE_FRESH: '1',
      // Every page measured gets a creative (a held-out browser keeps the shop's own content).
      VITRINE_HOLDOUT_SHARE: '0',
      VITRINE_ADMIN_TOKEN: ADMIN_TOKEN,
      VITRINE_EXTRA_ADMIN_TOKENS: JSON.stringify(Object.fromEntries(SHARDED_SITES.map(([site]) => [site, ADMIN_TOKEN]))),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      stack.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Vitrine is running') && resolve());
      stack.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
    });
    await run();
  } finally {
    stack.kill('SIGTERM');
    await new Promise((r) => stack.once('exit', r));
  }
}
