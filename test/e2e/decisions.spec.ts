/**
 * The decision engine in the page: real time, eligibility, config refresh and fallbacks. The
 * fixture page sets data-debug, which exposes the engine's distribution() to the page, so the
 * policy's whole distribution can be read (estimated with 4,096 posterior draws).
 */
import type { Page, Route } from '@playwright/test';
import type { SiteConfig } from '../../protocol/wire.ts';
import { creativeIn, EDGE, expect, readStore, test } from './vitrine-test.ts';

interface Share {
  creativeId: string;
  category: string;
  probability: number;
}

const HOME = { pageType: 'home', category: null, hour: 12, device: 'desktop' };

function distribution(page: Page): Promise<Share[]> {
  return page.evaluate((context) => (window as unknown as { vitrine: { engine: { distribution(s: string, c: unknown): Promise<Share[]> } } }).vitrine.engine.distribution('hero', context), HOME);
}

// Routes still answering when a test ends (the refresh test's page keeps re-checking) are let go quietly.
test.afterEach(({ page }) => page.context().unrouteAll({ behavior: 'ignoreErrors' }));

const categoryShare = (shares: Share[], category: string) => shares.filter((s) => s.category === category).reduce((sum, s) => sum + s.probability, 0);

/** Serves the site's real config, changed by `edit`, under its own ETag. */
async function editConfig(page: Page, edit: (config: SiteConfig) => SiteConfig | void): Promise<void> {
  await page.context().route(`${EDGE}/v1/sites/demo/config`, async (route: Route) => {
    const response = await route.fetch({ headers: { ...route.request().headers(), 'cache-control': 'no-cache' } });
    const config = (await response.json()) as SiteConfig;
    const edited = edit(config) ?? config;
    const body = JSON.stringify(edited);
    await route.fulfill({ response, body, headers: { ...response.headers(), etag: `"test-${body.length}-${edited.model?.version ?? 'none'}"`, 'cache-control': 'no-store' } });
  });
}

test('three views in a category raise that category\'s probability in the next decision, in the same page', async ({ page, pageErrors }) => {
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const before = await distribution(page);
  expect(before.reduce((sum, s) => sum + s.probability, 0)).toBeCloseTo(1, 6);
  // The category this shopper is least likely to be shown now: the most room to rise.
  const categories = [...new Set(before.map((s) => s.category))];
  const target = categories.reduce((a, b) => (categoryShare(before, a) <= categoryShare(before, b) ? a : b));
  for (let i = 1; i <= 3; i++) await page.evaluate(([category, n]) => window.vitrine!('track', 'product_view', { productId: `${category}-${n}`, category, price: 80 }), [target, i] as const);
  await expect.poll(async () => (await readStore<{ category?: string }>(page, 'events')).filter((e) => e.category === target).length).toBe(3);
  const after = await distribution(page);
  console.log(`P(${target}) before ${categoryShare(before, target).toFixed(3)}, after three views ${categoryShare(after, target).toFixed(3)}`);
  expect(categoryShare(after, target)).toBeGreaterThan(categoryShare(before, target) * 2);
  expect(categoryShare(after, target)).toBeGreaterThan(0.2);
  expect(pageErrors).toEqual([]);
});

test('every eligible creative keeps at least its share of the exploration floor', async ({ page }) => {
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const shares = await distribution(page);
  const floor = 0.01 / shares.length;
  expect(shares.length).toBeGreaterThan(10);
  for (const s of shares) expect(s.probability).toBeGreaterThanOrEqual(floor * 0.999);
});

test('excluded categories and the frequency cap take creatives out before scoring', async ({ page }) => {
  await editConfig(page, (config) => ({ ...config, excludedCategories: ['watches', 'hats'], frequencyCapPerDay: 1 }));
  await page.goto('/fixtures/debug-slot');
  const shown = creativeIn(page, 'hero');
  await expect(shown).toBeVisible({ timeout: 15_000 });
  const first = await distribution(page);
  expect(first.filter((s) => s.category === 'watches' || s.category === 'hats')).toEqual([]);
  expect(first.reduce((sum, s) => sum + s.probability, 0)).toBeCloseTo(1, 6);
  // Once its impression is counted (visible for a second), the creative shown is capped for today.
  const shownId = await shown.getAttribute('data-creative');
  expect(first.map((s) => s.creativeId)).toContain(shownId);
  await expect.poll(async () => (await readStore<{ creativeId: string; impression: boolean }>(page, 'decisions')).some((d) => d.creativeId === shownId && d.impression), { timeout: 10_000 }).toBe(true);
  const second = await distribution(page);
  expect(second.map((s) => s.creativeId)).not.toContain(shownId);
  expect(second).toHaveLength(first.length - 1);
});

test('a changed config is picked up while the page stays open, and swapped in between decisions', async ({ page, pageErrors }) => {
  let withModel = true;
  await editConfig(page, (config) => ({ ...config, refreshSeconds: 1, model: withModel ? config.model : null }));
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const modelVersions = async () => (await readStore<{ at: number; modelVersion: string | null }>(page, 'decisions')).sort((a, b) => a.at - b.at).map((d) => d.modelVersion);
  const [served] = await modelVersions();
  expect(served).toMatch(/^[0-9a-f]{16}$/);
  // The merchant rolls back to no model: within a refresh or two, decisions are by popularity.
  withModel = false;
  await expect.poll(async () => {
    await page.evaluate(() => window.vitrine!('refresh'));
    return (await modelVersions()).at(-1);
  }, { timeout: 15_000, intervals: [1100] }).toBeNull();
  // And back: the model returns without a reload.
  withModel = true;
  await expect.poll(async () => {
    await page.evaluate(() => window.vitrine!('refresh'));
    return (await modelVersions()).at(-1);
  }, { timeout: 15_000, intervals: [1100] }).toBe(served);
  expect(pageErrors).toEqual([]);
});

test('a model that fails to download leaves decisions to the popularity prior, with one warning', async ({ page, warnings, pageErrors }) => {
  await page.context().route(/\/v1\/models\/[0-9a-f]{16}\/model\.json$/, (route) => route.fulfill({ status: 500, body: 'broken' }));
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  expect(warnings.filter((w) => w.includes('model not used'))).toHaveLength(1);
  expect(warnings.join('\n')).toContain('500');
  const decisions = await readStore<{ modelVersion: string | null; propensity: number }>(page, 'decisions');
  expect(decisions).toHaveLength(1);
  expect(decisions[0]!.modelVersion).toBeNull();
  expect(decisions[0]!.propensity).toBeGreaterThan(0);
  expect(pageErrors).toEqual([]);
});

test('a model whose weights are cut short is refused, not guessed at', async ({ page, warnings }) => {
  await page.context().route(/\/v1\/models\/[0-9a-f]{16}\/weights\.bin$/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: (await response.body()).subarray(0, 100) });
  });
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  expect(warnings.filter((w) => w.includes('model not used') && w.includes('weights.bin has 100 bytes'))).toHaveLength(1);
});

test('a candidate that fails validation is left out, with one warning; the others are still used', async ({ page, warnings, pageErrors }) => {
  let badId = '';
  await editConfig(page, (config) => {
    badId = config.candidates[0]!.id;
    config.candidates[0] = { ...config.candidates[0]!, url: 'javascript:alert(1)' };
  });
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  expect(warnings.filter((w) => w.includes('1 candidate(s) left out') && w.includes(badId))).toHaveLength(1);
  const shares = await distribution(page);
  expect(shares.map((s) => s.creativeId)).not.toContain(badId);
  expect(shares.length).toBeGreaterThan(10);
  expect(pageErrors).toEqual([]);
});

test('"why this ad?" explains the decision from local data, as a native disclosure in the creative', async ({ page, pageErrors }) => {
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const shares = await distribution(page);
  const categories = [...new Set(shares.map((s) => s.category))];
  const target = categories.reduce((a, b) => (categoryShare(shares, a) <= categoryShare(shares, b) ? a : b));
  for (let i = 1; i <= 3; i++) await page.evaluate(([category, n]) => window.vitrine!('track', 'product_view', { productId: `${category}-${n}`, category, price: 80 }), [target, i] as const);
  await expect.poll(async () => (await readStore<{ category?: string }>(page, 'events')).filter((e) => e.category === target).length).toBe(3);
  await page.evaluate(() => window.vitrine!('refresh'));
  await expect.poll(async () => (await readStore(page, 'decisions')).length).toBe(2);
  const shownId = await creativeIn(page, 'hero').getAttribute('data-creative');
  const shownCategory = shares.find((s) => s.creativeId === shownId)!.category;
  const why = page.locator('[data-vitrine-slot="hero"] details.why');
  await expect(why.locator('p')).toBeHidden();
  await why.locator('summary').click();
  await expect(why.locator('p')).toBeVisible();
  // After three views of a category its creatives win ~99% of the time; the sentence then names it.
  if (shownCategory === target) await expect(why.locator('p')).toHaveText(`Because you viewed ${target.replace(/-/g, ' ')}.`);
  else await expect(why.locator('p')).toHaveText(/^(Because you viewed .+\.|Something new .+)$/);
  expect(pageErrors).toEqual([]);
});
