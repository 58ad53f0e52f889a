import * as v from 'valibot';
import { ReportSchema } from '../../protocol/wire.ts';
import { creativeIn, EDGE, expect, readStore, roundTotals, test } from './vitrine-test.ts';

interface StoredEvent {
  type: string;
  productId?: string;
  category?: string;
}
interface StoredDecision {
  id: string;
  slot: string;
  creativeId: string;
  propensity: number;
  click: boolean;
}

test('one script tag to one stored feedback: every hop of the loop', async ({ page, edgeTraffic, pageErrors }) => {
  await page.goto('/product/sneakers-1');

  // 1. A creative is rendered inside the hero slot's shadow root.
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 10_000 });
  const inShadow = await page.locator('[data-vitrine-slot="hero"]').evaluate((el) => el.shadowRoot?.querySelector('a.creative') !== null);
  expect(inShadow).toBe(true);

  // 2. The page view and the product view (from JSON-LD) are in IndexedDB.
  const events = await readStore<StoredEvent>(page, 'events');
  expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['page_view', 'product_view']));
  expect(events.find((e) => e.type === 'product_view')).toMatchObject({ productId: 'sneakers-1', category: 'sneakers' });

  // 3. The decision is logged with a propensity.
  const decisions = await readStore<StoredDecision>(page, 'decisions');
  const creativeId = await creative.getAttribute('data-creative');
  const hero = decisions.find((d) => d.slot === 'hero')!;
  expect(hero.creativeId).toBe(creativeId);
  expect(hero.propensity).toBeGreaterThan(0);
  expect(hero.propensity).toBeLessThanOrEqual(1);

  // 4. A click sends a valid report, and the edge's aggregate for that creative changes.
  const before = await roundTotals();
  const clicksOf = (t: typeof before) => t.totals.find((x) => x.creativeId === creativeId)?.clicks ?? 0;
  const href = await creative.evaluate((a) => (a as HTMLAnchorElement).href);
  const reportResponse = page.waitForResponse((r) => r.url() === `${EDGE}/v1/sites/demo/reports` && r.request().method() === 'POST');
  await creative.click();
  const response = await reportResponse;
  expect(response.status()).toBe(202);
  const report = v.parse(ReportSchema, JSON.parse(response.request().postData()!));
  expect(report.outcomes).toContainEqual(expect.objectContaining({ creativeId, clicks: 1 }));
  await expect.poll(async () => clicksOf(await roundTotals())).toBe(clicksOf(before) + 1);

  // 5. The click navigated to the creative's link (possibly this same product page).
  await expect.poll(() => page.url()).toBe(href);
  expect(edgeTraffic.requests.some((r) => r.url().endsWith('/v1/sites/demo/config'))).toBe(true);
  expect(pageErrors).toEqual([]);
});

test('the report is sent once: a reload retries nothing that was acknowledged', async ({ page }) => {
  await page.goto('/category/hats');
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 10_000 });
  const before = await roundTotals();
  const reportResponse = page.waitForResponse((r) => r.url().endsWith('/v1/sites/demo/reports'));
  await creative.click();
  await reportResponse;
  await page.waitForURL(/\/product\//);
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 10_000 });
  // Whatever the next page did with its outbox, the edge counted exactly one more click,
  // and the outbox empties once the edge has acknowledged (a duplicate is an acknowledgement).
  const allClicks = (t: Awaited<ReturnType<typeof roundTotals>>) => t.totals.reduce((n, x) => n + x.clicks, 0);
  await expect.poll(async () => allClicks(await roundTotals())).toBe(allClicks(before) + 1);
  await expect.poll(async () => (await readStore(page, 'outbox')).length).toBe(0);
  await page.waitForTimeout(500);
  expect(allClicks(await roundTotals())).toBe(allClicks(before) + 1);
});
