/** Edge tests run inside workerd (the real Workers runtime) with real D1 and Durable Objects. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { hostilePayloads } from '../test/edge/hostile-payloads.ts';

const root = path.resolve(import.meta.dirname, '..');
// wrangler refuses a missing assets directory; the widget build fills it, the edge tests do not need it.
mkdirSync(path.join(root, 'dist/edge-assets'), { recursive: true });
const migrations = await readD1Migrations(path.join(root, 'edge-worker/migrations'));

export default defineConfig({
  plugins: [
    cloudflareTest({
      // The test build: the deployed app plus the test controls (tests close rounds by a call, not by waiting).
      main: path.join(root, 'edge-worker/src/test-worker.ts'),
      wrangler: { configPath: path.join(root, 'wrangler.toml') },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          TEST_CONTROLS: 'enabled',
          // Generated here, in Node: see test/edge/hostile-payloads.ts for why.
          HOSTILE_PAYLOADS: hostilePayloads(),
          ADMIN_TOKENS: JSON.stringify({
            demo: 'test-demo-admin-token-0001',
            other: 'test-other-admin-token-0002',
            'fresh-site': 'test-fresh-admin-token-003',
            tightclip: 'test-tight-admin-token-0004',
            tokens: 'test-tokens-admin-token-0005',
            sharded: 'test-sharded-admin-token-006',
            budget: 'test-budget-admin-token-0007',
            windows: 'test-windows-admin-token-008',
            networks: 'test-networks-admin-token-09',
            offsets: 'test-offsets-admin-token-010',
            holdout: 'test-holdout-admin-token-011',
            sched: 'test-sched-admin-token-00012',
          }),
        },
      },
    }),
  ],
  test: {
    name: 'edge',
    root,
    include: ['test/edge/**/*.test.ts'],
    // A safety net, never a speed check: edge tests share the two cores with three other test
    // files (vitest.config.ts maxWorkers), and a round's first request generates its RSA key; on a
    // busy machine a test of a few requests took over 15 s.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/edge/apply-migrations.ts'],
  },
});
