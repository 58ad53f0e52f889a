// The bindings the edge tests see through `cloudflare:workers`: the worker's Env plus the
// migrations list the vitest config passes in.
declare namespace Cloudflare {
  interface Env {
    DB: D1Database;
    ROUNDS: DurableObjectNamespace<import('../../edge-worker/src/round-aggregator.ts').RoundAggregator>;
    ASSETS: Fetcher;
    ADMIN_TOKENS: string;
    REPORT_LIMITER: RateLimit;
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    HOSTILE_PAYLOADS: import('./hostile-payloads.ts').HostilePayload[];
  }
}
