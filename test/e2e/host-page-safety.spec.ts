import { creativeIn, EDGE, expect, readStore, test } from './vitrine-test.ts';

// Routes still waiting when a test ends (a stalled config) are let go quietly.
test.afterEach(({ page }) => page.context().unrouteAll({ behavior: 'ignoreErrors' }));

// Test pages live in test/fixtures/pages and are served by the storefront itself: a page
// fulfilled by page.route has no address, and Chromium's local network access rules would then
// block its loads from the loopback edge.

test('a script tag without data-site warns once and does nothing else', async ({ page, warnings, pageErrors, edgeTraffic }) => {
  await page.goto('/fixtures/no-site');
  await page.waitForLoadState('load');
  await page.waitForTimeout(500);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('data-site');
  await expect(page.locator('[data-vitrine-slot="hero"]')).toHaveText('merchant content');
  expect(edgeTraffic.requests.map((r) => new URL(r.url()).pathname)).toEqual(['/v1/vitrine.js']);
  expect(pageErrors).toEqual([]);
});

test('an answer bound that is not a whole number of milliseconds in range warns once with the range and does nothing else', async ({
  page,
  warnings,
  pageErrors,
  edgeTraffic,
}) => {
  await page.goto('/fixtures/plain-slot?answer-ms=50');
  await page.waitForLoadState('load');
  await page.waitForTimeout(500);
  expect(warnings).toEqual(['[vitrine] data-answer-ms="50" is not a whole number of milliseconds from 200 to 60000']);
  await expect(page.locator('[data-vitrine-slot="hero"]')).toHaveText('merchant content');
  expect(edgeTraffic.requests.map((r) => new URL(r.url()).pathname)).toEqual(['/v1/vitrine.js']);
  expect(pageErrors).toEqual([]);
});

test("a wrong site id: the warning gives the edge's reason, not a bare network error", async ({ page, warnings, pageErrors }) => {
  await page.goto('/fixtures/unknown-site');
  await expect.poll(() => warnings.length, { timeout: 10_000 }).toBeGreaterThan(0);
  expect(warnings.join('\n')).toContain('no site no-such-shop is configured on this edge');
  expect(warnings.join('\n')).not.toContain('Failed to fetch');
  await expect(page.locator('[data-vitrine-slot="hero"]')).toHaveText('merchant content');
  expect(pageErrors).toEqual([]);
});

test('an edge that fails leaves the merchant content in place, with a warning and no page error', async ({ page, warnings, pageErrors }) => {
  await page.context().route(`${EDGE}/v1/sites/demo/config`, (route) => route.fulfill({ status: 503, body: 'down' }));
  await page.goto('/fixtures/plain-slot');
  await expect.poll(() => warnings.length, { timeout: 10_000 }).toBeGreaterThan(0);
  expect(warnings.join('\n')).toContain('503');
  await expect(page.locator('[data-vitrine-slot="hero"]')).toHaveText('merchant content');
  expect(pageErrors).toEqual([]);
});

test("an edge that never answers the config: after twice the page's bound, one warning; the merchant content stays", async ({ page, warnings, pageErrors }) => {
  // The request stalls (it is let go when the test ends): no answer, no error, no status.
  await page.context().route(`${EDGE}/v1/sites/demo/config`, () => new Promise<void>(() => undefined));
  await page.goto('/fixtures/plain-slot?answer-ms=1000');
  await expect.poll(() => warnings.length, { timeout: 15_000 }).toBeGreaterThan(0);
  // The warning names the step the start stalled in: here the config the page asked for at load.
  expect(warnings).toEqual(['[vitrine] no personalization on this page: the engine did not start within 2000 ms (waiting for the config asked for at load)']);
  await expect(page.locator('[data-vitrine-slot="hero"]')).toHaveText('merchant content');
  expect(pageErrors).toEqual([]);
});

test("an engine chunk that never arrives: after twice the page's bound, the same one warning; the merchant content stays", async ({
  page,
  warnings,
  pageErrors,
}) => {
  await page.context().route(`${EDGE}/v1/chunks/engine-*`, () => new Promise<void>(() => undefined));
  await page.goto('/fixtures/plain-slot?answer-ms=1000');
  await expect.poll(() => warnings.length, { timeout: 15_000 }).toBeGreaterThan(0);
  expect(warnings).toEqual(['[vitrine] no personalization on this page: the engine did not start within 2000 ms (fetching the engine chunk)']);
  await expect(page.locator('[data-vitrine-slot="hero"]')).toHaveText('merchant content');
  expect(pageErrors).toEqual([]);
});

test('calls queued before the script loaded are replayed in order; invalid ones warn and are dropped', async ({ page, warnings, pageErrors }) => {
  await page.goto('/fixtures/queued-calls');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 10_000 });
  const types = (await readStore<{ type: string; id: number }>(page, 'events')).sort((a, b) => a.id - b.id).map((e) => e.type);
  expect(types).toEqual(['page_view', 'search', 'add_to_cart']);
  expect(warnings.filter((w) => w.includes('teleport'))).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('IndexedDB unavailable in the worker: creatives still render from an in-memory store, one warning, nothing thrown', async ({
  page,
  warnings,
  pageErrors,
}) => {
  // Simulates a browser that refuses IndexedDB (blocked storage, some private modes): the test
  // wraps the page's Worker constructor so that, inside the engine worker only, touching
  // `indexedDB` throws a SecurityError before the engine module is imported. Everything else is real.
  await page.addInitScript(() => {
    const RealWorker = window.Worker;
    const blobUrl = (code: string) => URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    const blockIndexedDB = blobUrl(
      "Object.defineProperty(self, 'indexedDB', { configurable: true, get() { throw new DOMException('IndexedDB is blocked', 'SecurityError'); } });",
    );
    window.Worker = class extends RealWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        // Static imports evaluate in order: the block first, then the engine (a dynamic import
        // would let the loader's first messages arrive before the engine listens).
        super(blobUrl(`import ${JSON.stringify(blockIndexedDB)}; import ${JSON.stringify(String(url))};`), options);
      }
    } as typeof Worker;
  });
  // What the page and its workers ask for (Chromium reports requests its HTTP cache answers too).
  const asked: string[] = [];
  page.on('request', (r) => asked.push(new URL(r.url()).pathname));
  await page.goto('/product/shirts-2');
  await expect(creativeIn(page, 'hero')).toBeVisible();
  expect(warnings.filter((w) => w.includes('IndexedDB unavailable'))).toHaveLength(1);
  // The in-memory engine that replaced the first one asked for nothing the page already had:
  // the engine chunk and the config once each, the in-memory store's chunk once.
  expect(asked.filter((p) => /\/v1\/chunks\/engine-/.test(p))).toHaveLength(1);
  expect(asked.filter((p) => p === '/v1/sites/demo/config')).toHaveLength(1);
  expect(asked.filter((p) => /\/v1\/chunks\/memory-store-/.test(p))).toHaveLength(1);
  expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test("the page API's types are served beside the script, as the repository has them", async () => {
  const { readFileSync } = await import('node:fs');
  const response = await fetch(`${EDGE}/v1/vitrine.d.ts`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  expect(await response.text()).toBe(readFileSync(new URL('../../widget/vitrine.d.ts', import.meta.url), 'utf8'));
});
