/**
 * The worker's bindings: those wrangler.toml declares are generated from it by `npm run types`
 * (edge-worker/worker-configuration.d.ts; `npm test` fails when it no longer matches), the
 * secrets (which wrangler.toml does not list) are written here.
 */
export interface Env extends Cloudflare.Env {
  /** JSON object mapping site id to that site's admin token (a wrangler secret). */
  ADMIN_TOKENS: string;
  /** Secret salt of the daily client keys used for rate limiting (optional). */
  CLIENT_KEY_SALT?: string;
  /** "enabled" only where test-worker.ts runs (tests, local runs): the test controls answer then. */
  TEST_CONTROLS?: string;
}
