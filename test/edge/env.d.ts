// The bindings the edge tests see through `cloudflare:workers`: the worker's (generated from
// wrangler.toml into edge-worker/worker-configuration.d.ts) plus the admin tokens the vitest
// config sets and what it passes in for the tests alone.
declare namespace Cloudflare {
  interface Env {
    ADMIN_TOKENS: string;
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    HOSTILE_PAYLOADS: import('./hostile-payloads.ts').HostilePayload[];
  }
}
