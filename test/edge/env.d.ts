import type { Env } from '../../edge-worker/src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends import('../../edge-worker/src/env.ts').Env {
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    }
  }
}
export type { Env };
