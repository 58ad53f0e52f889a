import type { Page } from '@playwright/test';
import { creativeIn, expect, readStore, test } from './vitrine-test.ts';

const vitrineDatabases = (page: Page) => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.startsWith('vitrine:')));
const reportPosts = (requests: { method(): string; url(): string }[]) => requests.filter((r) => r.method() === 'POST' && r.url().endsWith('/reports'));

test('two tabs recording at the same time lose nothing and count nothing twice', async ({ context, page }) => {
  const second = await context.newPage();
  await Promise.all([page.goto('/fixtures/plain-slot'), second.goto('/fixtures/plain-slot')]);
  await Promise.all([expect(creativeIn(page, 'hero')).toBeVisible(), expect(creativeIn(second, 'hero')).toBeVisible()]);
  const burst = (p: Page, category: string) =>
    p.evaluate((c) => {
      for (let i = 0; i < 40; i++)
        (window as unknown as { vitrine: (...a: unknown[]) => void }).vitrine('track', 'product_view', { category: c, price: 10 + i });
    }, category);
  await Promise.all([burst(page, 'hats'), burst(second, 'bags')]);
  const expected = 2 + 80; // two page views and two bursts of 40
  await expect.poll(async () => (await readStore(page, 'events')).length).toBe(expected);
  const [profile] = await readStore<{ totalEvents: number; categories: Record<string, number> }>(page, 'profile');
  expect(profile!.totalEvents).toBe(expected);
  expect(Object.keys(profile!.categories)).toEqual(expect.arrayContaining(['hats', 'bags']));
});

/** The widget's chunks the page fetched, by kind (engine, memory-store, render), in order of name. */
const chunksFetched = (requests: { url(): string }[]) =>
  requests
    .map((r) => /\/v1\/chunks\/([a-z-]+)-[\w-]+\.js$/.exec(r.url())?.[1])
    .filter((kind): kind is string => kind !== undefined)
    .sort();

test('data-consent="required": nothing stored or sent before consent; withdrawing wipes it', async ({ page, edgeTraffic }) => {
  await page.goto('/fixtures/consent-required');
  await expect(creativeIn(page, 'hero')).toBeVisible(); // personalization in memory still works
  // In memory: the in-memory store came with the engine (a consenting shopper never fetches it: below).
  expect(chunksFetched(edgeTraffic.requests)).toEqual(['engine', 'memory-store', 'render']);
  // The click navigates; the landing page is a stub without the widget, so only this page's
  // engine could have stored or sent anything.
  await page.route('**/product/**', (route) => route.fulfill({ contentType: 'text/html', body: '<p>landed</p>' }));
  await creativeIn(page, 'hero').click();
  await page.waitForURL(/\/product\//);
  await page.waitForTimeout(500);
  expect(await vitrineDatabases(page)).toEqual([]);
  expect(reportPosts(edgeTraffic.requests)).toEqual([]);

  await page.goto('/fixtures/consent-required');
  await expect(creativeIn(page, 'hero')).toBeVisible();
  expect(await vitrineDatabases(page)).toEqual([]);
  const before = edgeTraffic.requests.length;
  await page.evaluate(() => (window as unknown as { vitrine: (...a: unknown[]) => Promise<void> }).vitrine('consent', true));
  // Consent given: the engine restarts on the device's storage, without the in-memory store (with
  // it, the site's database would be the worker's own in memory, never the page's to see).
  await expect.poll(() => vitrineDatabases(page)).toEqual(['vitrine:demo']);
  // The chunks the page fetched are kept (engine-connection.ts): the restart asks for none again.
  expect(chunksFetched(edgeTraffic.requests.slice(before))).toEqual([]);
  await expect.poll(async () => (await readStore<{ type: string }>(page, 'events')).map((e) => e.type)).toContain('page_view');

  await page.evaluate(() => (window as unknown as { vitrine: (...a: unknown[]) => Promise<void> }).vitrine('consent', false));
  await expect.poll(() => vitrineDatabases(page)).toEqual([]);
});

test('Global Privacy Control: no report leaves the device, local personalization goes on', async ({ page, edgeTraffic }) => {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  await page.goto('/product/hats-2');
  await expect(creativeIn(page, 'hero')).toBeVisible();
  // The creative may link to this very product, so wait for the next document's load, not a URL.
  await Promise.all([page.waitForEvent('load'), creativeIn(page, 'hero').click()]);
  await expect(creativeIn(page, 'hero')).toBeVisible();
  const decisions = await readStore<{ click: boolean }>(page, 'decisions');
  expect(decisions.some((d) => d.click)).toBe(true);
  await page.waitForTimeout(500);
  expect(reportPosts(edgeTraffic.requests)).toEqual([]);
});

test("vitrine('forget') deletes every Vitrine database; vitrine('export') returns the stored data", async ({ page }) => {
  await page.goto('/product/bags-1');
  await expect(creativeIn(page, 'hero')).toBeVisible();
  const exported = JSON.parse(await page.evaluate(() => (window as unknown as { vitrine: (...a: unknown[]) => Promise<string> }).vitrine('export')));
  expect(exported.site).toBe('demo');
  expect(exported.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['page_view', 'product_view']));
  expect(exported.decisions.length).toBeGreaterThan(0);
  expect(exported.profile.totalEvents).toBeGreaterThanOrEqual(2);

  expect(await vitrineDatabases(page)).toEqual(['vitrine:demo']);
  await page.evaluate(() => (window as unknown as { vitrine: (...a: unknown[]) => Promise<void> }).vitrine('forget'));
  expect(await vitrineDatabases(page)).toEqual([]);
  // The rest of the page stores nothing: later calls neither rebuild the database nor fail.
  await page.evaluate(() => (window as unknown as { vitrine: (...a: unknown[]) => void }).vitrine('track', 'product_view', { category: 'bags' }));
  const after = JSON.parse(await page.evaluate(() => (window as unknown as { vitrine: (...a: unknown[]) => Promise<string> }).vitrine('export')));
  expect(after.stored).toBeNull();
  expect(await vitrineDatabases(page)).toEqual([]);
});
