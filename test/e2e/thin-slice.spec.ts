import * as v from 'valibot';
import { ReportSchema } from '../../protocol/wire.ts';
import { CREATIVES, TEMPLATES } from '../fixtures/storefront/demo-catalog.ts';
import { creativeIn, EDGE, expect, openRound, readStore, test } from './vitrine-test.ts';

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
  variant: [number, number, number];
  variantPropensity: number;
}

/** A template text as a pattern its filled-in form matches ({category} etc. stand for any text). */
const filled = (text: string) => new RegExp(`^${text.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '.+')}$`);

test('one script tag to one stored feedback: every hop of the loop', async ({ page, edgeTraffic, pageErrors }) => {
  await page.goto('/product/sneakers-1');

  // 1. A creative is rendered inside the hero slot's shadow root.
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 10_000 });
  const inShadow = await page.locator('[data-vitrine-slot="hero"]').evaluate((el) => el.shadowRoot?.querySelector('a[data-creative]') !== null);
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
  // ...with the text variants it shows and their exact probability.
  const template = TEMPLATES.find((t) => t.id === CREATIVES.find((c) => c.id === creativeId)!.templateId)!;
  expect(hero.variantPropensity).toBeCloseTo(
    1 / (template.headline.length * (template.body?.length ?? 1) * template.cta.length * (template.badge?.length ?? 1)),
    12,
  );
  await expect(creative.locator('.headline')).toHaveText(filled(template.headline[hero.variant[0]]!));

  // 4. A click sends this device's report for the round: valid, with the click and the
  // last layer's statistics for the serving model, counted by the round's Durable Object.
  // The round is open; the admin learns nothing of how many reported in it (counts leave it only noised, after it closes).
  const before = await openRound();
  expect(before.status).toBe('open');
  expect(before).not.toHaveProperty('contributors');
  // The edge's answer is read as it passes (the click navigates away before a page could read it).
  const answers: string[] = [];
  await page.context().route(`${EDGE}/v1/sites/demo/reports`, async (route) => {
    const answer = await route.fetch();
    answers.push(await answer.text());
    await route.fulfill({ response: answer });
  });
  const href = await creative.evaluate((a) => (a as HTMLAnchorElement).href);
  const reportResponse = page.waitForResponse((r) => r.url() === `${EDGE}/v1/sites/demo/reports` && r.request().method() === 'POST');
  await creative.click();
  const response = await reportResponse;
  expect(response.status()).toBe(202);
  await expect.poll(() => answers.length).toBe(1);
  // The demo is a small shop: its rounds collect the off-policy numbers and the offsets, not the head's statistics.
  expect(JSON.parse(answers[0]!)).toEqual({ accepted: true, duplicate: false, head: 'none', ope: 'counted', offsets: 'counted', towers: 'none' });
  const report = v.parse(ReportSchema, JSON.parse(response.request().postData()!));
  expect(report.outcomes).toContainEqual(expect.objectContaining({ creativeId, clicks: 1 }));
  expect(report.modelVersion).toMatch(/^[0-9a-f]{16}$/);
  expect(report.head).toBeUndefined();
  // One shown decision in the clicked creative's cell: one click against the clicks the model expected there.
  const cells = Object.values(report.offsets!.cells);
  expect(cells.reduce((sum, [clicks]) => sum + clicks!, 0)).toBe(1);
  expect(cells.every(([, expected]) => expected! > 0)).toBe(true);
  expect(report.offsets!.creatives[hero.creativeId]![0]).toBe(1);

  // 5. The click navigated to the creative's link (possibly this same product page).
  await expect.poll(() => page.url()).toBe(href);
  expect(edgeTraffic.requests.some((r) => r.url().endsWith('/v1/sites/demo/config'))).toBe(true);
  expect(pageErrors).toEqual([]);
});

test('one report per device per round: a reload retries nothing acknowledged, and later outcomes wait for the next round', async ({ page, edgeTraffic }) => {
  await page.goto('/category/hats');
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 10_000 });
  const reportResponse = page.waitForResponse((r) => r.url().endsWith('/v1/sites/demo/reports'));
  await creative.click();
  expect((await reportResponse).status()).toBe(202);
  await page.waitForURL(/\/product\//);
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 10_000 });
  // The outbox empties once the edge has acknowledged, and the ledger holds the round.
  await expect.poll(async () => (await readStore(page, 'outbox')).length).toBe(0);
  expect(await readStore<{ round: number }>(page, 'ledger')).toHaveLength(1);
  // A click on the next page's creative stays on the device this round: no second report.
  await creativeIn(page, 'hero').click();
  await page.waitForLoadState();
  await page.waitForTimeout(800);
  const clicked = await readStore<{ click: boolean; reported: { click: boolean } }>(page, 'decisions');
  expect(clicked.some((d) => d.click && !d.reported.click)).toBe(true);
  const posts = edgeTraffic.requests.filter((r) => r.method() === 'POST' && r.url().endsWith('/v1/sites/demo/reports'));
  expect(posts).toHaveLength(1);
});
