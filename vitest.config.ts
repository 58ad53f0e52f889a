/** One vitest run, two worlds: edge tests inside workerd, everything else in Node. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The edge tests' workerd pool keeps one worker slot for the whole run, and the two
    // integration files spend most of their 4 minutes waiting for rounds to close: with the
    // default (one slot per core, 2 here) the node files ran one at a time behind them.
    maxWorkers: 4,
    projects: [
      'edge-worker/vitest.config.ts',
      {
        test: {
          name: 'node',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'protocol/**/*.test.ts', 'widget/**/*.test.ts', 'model-training/**/*.test.ts'],
          environment: 'node',
          // A safety net, never a speed check (a busy 2-core CI machine).
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
