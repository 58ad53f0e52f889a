/** One vitest run, two worlds: edge tests inside workerd, everything else in Node. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'edge-worker/vitest.config.ts',
      {
        test: {
          name: 'node',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'protocol/**/*.test.ts', 'widget/**/*.test.ts', 'model-training/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
    ],
  },
});
