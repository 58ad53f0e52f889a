/**
 * The Vitrine edge worker as deployed (wrangler.toml `main`): the application, the rounds'
 * scheduled releases (a Cron Trigger) and the RoundAggregator Durable Object class. Nothing here can close a round early or move a clock:
 * the test controls live in test-worker.ts, which this build never imports.
 */
import { createApp } from './app.ts';
import type { Env } from './env.ts';
import { scheduledReleases } from './scheduled-releases.ts';

export { RoundAggregator } from './round-aggregator.ts';

export default { fetch: createApp().fetch, scheduled: scheduledReleases } satisfies ExportedHandler<Env>;
