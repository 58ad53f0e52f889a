/**
 * The decision engine in the page: real time, eligibility, config refresh and fallbacks. The
 * fixture page sets data-debug, which exposes the engine's distribution() to the page, so the
 * policy's whole distribution can be read (estimated with 4,096 posterior draws).
 */
import { creativeIn, distribution, editConfig, expect, readStore, test } from './vitrine-test.ts';
import type { Share } from './vitrine-test.ts';

// Routes still answering when a test ends (the refresh test's page keeps re-checking) are let go quietly.
test.afterEach(({ page }) => page.context().unrouteAll({ behavior: 'ignoreErrors' }));

const categoryShare = (shares: Share[], category: string) => shares.filter((s) => s.category === category).reduce((sum, s) => sum + s.probability, 0);

test('a changed config is picked up while the page stays open, and swapped in between decisions', async ({ page, pageErrors }) => {
  let withModel = true;
  await editConfig(page, (config) => ({ ...config, refreshSeconds: 1, model: withModel ? config.model : null }));
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const modelVersions = async () =>
    (await readStore<{ at: number; modelVersion: string | null }>(page, 'decisions')).sort((a, b) => a.at - b.at).map((d) => d.modelVersion);
  const [served] = await modelVersions();
  expect(served).toMatch(/^[0-9a-f]{16}$/);
  // The model of the latest decision, polled with a refresh before each look (a refresh or two).
  const latestAfterRefresh = () =>
    expect.poll(
      async () => {
        await page.evaluate(() => window.vitrine!('refresh'));
        return (await modelVersions()).at(-1);
      },
      { timeout: 15_000, intervals: [1100] },
    );
  // The merchant rolls back to no model: decisions are by popularity.
  withModel = false;
  await latestAfterRefresh().toBeNull();
  // And back: the model returns without a reload.
  withModel = true;
  await latestAfterRefresh().toBe(served);
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

test('a model that has not arrived when the first decision is due: popularity decides, one warning, and the model is used once it arrives', async ({
  page,
  warnings,
  pageErrors,
}) => {
  // The weights stall (a slow network, a busy edge) until the test lets them through.
  let letThrough!: () => void;
  const stalled = new Promise<void>((resolve) => (letThrough = resolve));
  await page.context().route(/\/v1\/models\/[0-9a-f]{16}\/weights\.bin$/, async (route) => {
    await stalled;
    await route.fallback();
  });
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  expect(
    warnings.filter((w) => /model [0-9a-f]{16} not used yet \(it did not arrive within \d+ ms\); deciding by popularity until it does/.test(w)),
  ).toHaveLength(1);
  const modelVersions = async () =>
    (await readStore<{ at: number; modelVersion: string | null }>(page, 'decisions')).sort((a, b) => a.at - b.at).map((d) => d.modelVersion);
  expect(await modelVersions()).toEqual([null]);
  letThrough();
  // The model is swapped in when it arrives: a later decision on the same page uses it.
  await expect
    .poll(
      async () => {
        await page.evaluate(() => window.vitrine!('refresh'));
        return (await modelVersions()).at(-1);
      },
      { timeout: 15_000, intervals: [500] },
    )
    .toMatch(/^[0-9a-f]{16}$/);
  expect(warnings.filter((w) => w.includes('model'))).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('a candidate that fails validation is left out, with one warning; the others are still used', async ({ page, warnings, pageErrors }) => {
  let badId = '';
  await editConfig(page, (config) => {
    badId = config.candidates[0]!.id;
    config.candidates[0] = { ...config.candidates[0]!, url: 'javascript:alert(1)' };
  });
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  expect(warnings.filter((w) => w.includes('1 template(s) or candidate(s) left out') && w.includes(badId))).toHaveLength(1);
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
  for (let i = 1; i <= 3; i++)
    await page.evaluate(([category, n]) => window.vitrine!('track', 'product_view', { productId: `${category}-${n}`, category, price: 80 }), [
      target,
      i,
    ] as const);
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
