/**
 * The edge worker for tests and local runs (the workers vitest pool, `wrangler dev` started by
 * the integration tests, the simulator, and `npm start` when VITRINE_TEST_CONTROLS=1): the
 * deployed application plus the test controls. Never deployed: wrangler.toml's `main` is
 * index.ts, and a test checks that the production bundle holds no test route.
 */
import { createApp } from './app.ts';
import type { Env } from './env.ts';
import { scheduledReleases } from './scheduled-releases.ts';
import { testControls } from './test-controls.ts';

export { RoundAggregator } from './round-aggregator.ts';

export default { fetch: createApp([testControls]).fetch, scheduled: scheduledReleases } satisfies ExportedHandler<Env>;
