import type { RoundAggregator } from './round-aggregator.ts';

/** The worker's bindings (wrangler.toml) and secrets. */
export interface Env {
  DB: D1Database;
  ROUNDS: DurableObjectNamespace<RoundAggregator>;
  ASSETS: Fetcher;
  /** JSON object mapping site id to that site's admin token (a wrangler secret). */
  ADMIN_TOKENS: string;
  /** Secret salt of the daily client keys used for rate limiting (optional). */
  CLIENT_KEY_SALT?: string;
  /** Device reports per client key per minute (wrangler.toml [[ratelimits]]). */
  REPORT_LIMITER: RateLimit;
  /** Config and model reads per client key per minute. */
  READ_LIMITER: RateLimit;
  /** Admin API calls per site and client key per minute. */
  ADMIN_LIMITER: RateLimit;
}
