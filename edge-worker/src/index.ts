/**
 * The Vitrine edge worker as deployed (wrangler.toml `main`): the application and the
 * RoundAggregator Durable Object class. Nothing here can close a round early or move a clock:
 * the test controls live in test-worker.ts, which this build never imports.
 */
import { createApp } from './app.ts';
import type { Env } from './env.ts';

export { RoundAggregator } from './round-aggregator.ts';

export default createApp() satisfies ExportedHandler<Env>;
