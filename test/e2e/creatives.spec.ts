/**
 * Creatives in the page: each layout kind (and a screenshot of it at two widths under
 * test-results/creatives/), accessibility basics, no layout shift, the MRC viewability rule,
 * inert creative strings, a strict Content-Security-Policy page, "not interested", and a missing
 * image. Layouts are forced by serving the site's real config with only that layout's creatives.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import type { Layout } from '../../protocol/catalog.ts';
import { creativeIn, distribution, editConfig, expect, readStore, test } from './vitrine-test.ts';

test.afterEach(({ page }) => page.context().unrouteAll({ behavior: 'ignoreErrors' }));

const SHOTS = 'test-results/creatives';
const onlyLayout = (layout: Layout) => (config: { candidates: { layout: string }[] }) => {
  config.candidates = config.candidates.filter((c) => c.layout === layout);
};

/** Contrast ratio (WCAG) of two computed colors "rgb(r, g, b)". */
function contrast(fg: string, bg: string): number {
  const lum = (c: string) => {
    const [r, g, b] = c
      .match(/\d+(\.\d+)?/g)!
      .slice(0, 3)
      .map((x) => Number(x) / 255)
      .map((x) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a! + 0.05) / (b! + 0.05);
}

async function shadowStyle(page: Page, slot: string, selector: string, properties: string[]): Promise<Record<string, string>> {
  return page.locator(`[data-vitrine-slot="${slot}"]`).evaluate(
    (el, [sel, props]) => {
      const node = el.shadowRoot!.querySelector(sel as string)!;
      const style = getComputedStyle(node);
      return Object.fromEntries((props as string[]).map((p) => [p, style.getPropertyValue(p)]));
    },
    [selector, properties] as const,
  );
}

for (const layout of ['banner', 'product_card', 'carousel', 'text'] as const) {
  test(`${layout}: renders at two widths, accessible, as text, within the reserved space`, async ({ page, pageErrors }) => {
    await editConfig(page, onlyLayout(layout));
    await page.goto('/fixtures/creative-gallery');
    for (const slot of ['wide', 'narrow']) await expect(creativeIn(page, slot)).toBeVisible({ timeout: 15_000 });
    for (const slot of ['wide', 'narrow']) {
      const frame = page.locator(`[data-vitrine-slot="${slot}"] .frame`);
      await expect(frame).toHaveAttribute('data-layout', layout);
      const images = frame.locator('img');
      if (layout === 'text') await expect(images).toHaveCount(0);
      else for (const alt of await images.evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt')))) expect(alt?.trim()).toBeTruthy();
      // Prices in the site's currency (the demo's: USD) in the shopper's language (en-US here), as the shop's own pages show them.
      if (layout !== 'text') for (const price of await frame.locator('.price').allTextContents()) expect(price).toMatch(/^\$\d+\.\d\d/);
      if (layout !== 'text') expect(await frame.locator('.price').count()).toBeGreaterThan(0);
      if (layout === 'carousel') {
        const count = await frame.locator('.items li').count();
        expect(count).toBeGreaterThanOrEqual(2);
        expect(count).toBeLessThanOrEqual(4);
      }
      // The call to action is readable (WCAG AA for its text) and the creative is reachable by keyboard.
      const cta = await shadowStyle(page, slot, '.cta', ['color', 'background-color']);
      expect(contrast(cta.color!, cta['background-color']!)).toBeGreaterThanOrEqual(4.5);
      const box = await page.locator(`[data-vitrine-slot="${slot}"]`).boundingBox();
      const frameBox = await frame.boundingBox();
      expect(frameBox!.height).toBeLessThanOrEqual(box!.height + 0.5); // never taller than the space kept for it
    }
    await page.keyboard.press('Tab');
    await expect(creativeIn(page, 'wide')).toBeFocused();
    // The host themes creatives through CSS custom properties (the narrow slot sets an accent).
    expect((await shadowStyle(page, 'narrow', '.cta', ['background-color']))['background-color']).toBe('rgb(160, 20, 60)');
    expect((await shadowStyle(page, 'wide', '.cta', ['background-color']))['background-color']).toBe('rgb(10, 92, 255)');
    mkdirSync(SHOTS, { recursive: true });
    for (const [slot, width] of [
      ['wide', 720],
      ['narrow', 340],
    ] as const)
      await page.locator(`[data-vitrine-slot="${slot}"]`).screenshot({ path: `${SHOTS}/${layout}-${width}px.png` });
    expect(pageErrors).toEqual([]);
  });
}

test('reduced motion is respected: no transitions when the shopper asks for less motion', async ({ page }) => {
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await editConfig(page, onlyLayout('product_card'));
  await page.goto('/fixtures/creative-gallery');
  await expect(creativeIn(page, 'wide')).toBeVisible({ timeout: 15_000 });
  expect((await shadowStyle(page, 'wide', '.creative', ['transition-duration']))['transition-duration']).toBe('0s');
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  expect((await shadowStyle(page, 'wide', '.creative', ['transition-duration']))['transition-duration']).toBe('0.2s');
});

test('a creative arriving moves nothing on the page: no layout shift at all', async ({ page }) => {
  await page.addInitScript(() => {
    const shifts: { value: number; sources: string[] }[] = [];
    (window as unknown as { shifts: typeof shifts }).shifts = shifts;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as (PerformanceEntry & { value: number; sources?: { node?: Node }[] })[]) {
        shifts.push({ value: e.value, sources: (e.sources ?? []).map((s) => (s.node instanceof Element ? s.node.outerHTML.slice(0, 80) : String(s.node))) });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  for (const url of ['/product/sneakers-1', '/fixtures/creative-gallery']) {
    await page.goto(url);
    await expect(creativeIn(page, url.includes('gallery') ? 'narrow' : 'hero')).toBeVisible({ timeout: 15_000 });
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => (window as unknown as { shifts: unknown[] }).shifts), url).toEqual([]);
  }
});

test('viewability: not counted at 40% visible, nor at 60% for half a second; counted at 60% for a second', async ({ page }) => {
  // The test owns the page's clock (the renderer's one-second timer), so a busy machine cannot
  // stretch "half a second" into a second: time moves only when the test moves it.
  await page.clock.install();
  await page.setViewportSize({ width: 900, height: 800 });
  await page.goto('/fixtures/below-fold');
  const slot = page.locator('[data-vitrine-slot="hero"]');
  // Rendered (out of view: the decision is made when the page loads).
  await expect.poll(async () => (await readStore<{ impression: boolean }>(page, 'decisions')).length, { timeout: 15_000 }).toBe(1);
  await page.clock.pauseAt(Date.now() + 60_000);
  // An observer of the test's own on the slot, made after the renderer's: the browser delivers
  // one rendering step's intersection changes to observers in the order they were made, so once
  // this one has seen a scroll, the renderer's has too.
  await slot.evaluate((el) => {
    const w = window as unknown as { seenRatio: number };
    w.seenRatio = -1;
    new IntersectionObserver((entries) => (w.seenRatio = entries.at(-1)!.intersectionRatio), { threshold: [0, 0.4, 0.5, 0.6, 1] }).observe(el);
  });
  const impression = async () => (await readStore<{ impression: boolean }>(page, 'decisions'))[0]!.impression;
  const showFraction = async (fraction: number) => {
    const top = await slot.evaluate((el) => el.getBoundingClientRect().top + window.scrollY);
    const height = (await slot.boundingBox())!.height;
    await page.evaluate(() => ((window as unknown as { seenRatio: number }).seenRatio = -1));
    // The slot's top `fraction * height` above the viewport's bottom edge.
    await page.evaluate((y) => window.scrollTo(0, y), top + fraction * height - 800);
    await expect.poll(() => page.evaluate(() => (window as unknown as { seenRatio: number }).seenRatio)).toBeCloseTo(fraction, 1);
  };
  await showFraction(0.4);
  await page.clock.runFor(1600);
  expect(await impression()).toBe(false);
  await showFraction(0.6);
  await page.clock.runFor(500);
  await showFraction(0);
  await page.clock.runFor(900);
  expect(await impression()).toBe(false);
  await showFraction(0.6);
  await page.clock.runFor(1000);
  await expect.poll(impression, { timeout: 5_000 }).toBe(true);
});

test('HTML and script in every creative field stay inert text', async ({ page, pageErrors }) => {
  const payloads = ['<img src=x onerror="window.pwned=1">', '<script>window.pwned=2</script>', '"><svg onload=window.pwned=3>'];
  await editConfig(page, (config) => {
    config.templates = config.templates.map((t) => ({ ...t, headline: [payloads[0]!], body: [payloads[1]!], cta: [payloads[2]!], badge: [payloads[0]!] }));
    config.candidates = config.candidates.filter((c) => c.layout !== 'carousel').map((c) => ({ ...c, productName: payloads[1]!, brand: payloads[2]! }));
  });
  await page.goto('/fixtures/debug-slot');
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 15_000 });
  await expect(creative.locator('.headline')).toHaveText(payloads[0]!);
  await expect(creative.locator('.body')).toHaveText(payloads[1]!);
  await expect(creative.locator('.cta')).toHaveText(payloads[2]!);
  const injected = await page.locator('[data-vitrine-slot="hero"]').evaluate((el) => el.shadowRoot!.querySelectorAll('script, svg, img[src="x"]').length);
  expect(injected).toBe(0);
  await page.waitForTimeout(300);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  expect(pageErrors).toEqual([]);
});

test('a page with a strict Content-Security-Policy (nonce, no unsafe-inline, no eval) gets its creative, with no violation', async ({ page, pageErrors }) => {
  const response = await page.goto('/fixtures/csp-strict');
  expect(response!.headers()['content-security-policy']).toContain("'strict-dynamic'");
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  // The creative's styles applied (a constructable stylesheet, which style-src 'self' allows).
  const cta = await shadowStyle(page, 'hero', '.cta', ['border-radius']);
  expect(cta['border-radius']).toBe('999px');
  expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('"not interested" records a negative outcome, takes the creative out for good on this device, and fills the slot again', async ({ page, pageErrors }) => {
  await page.goto('/fixtures/debug-slot');
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 15_000 });
  const first = (await creative.getAttribute('data-creative'))!;
  // Both controls are targets of at least 24 x 24 px (WCAG 2.2, 2.5.8).
  for (const control of ['details.why summary', 'button.dismiss']) {
    const box = (await page.locator(`[data-vitrine-slot="hero"] ${control}`).boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(24);
    expect(box.width).toBeGreaterThanOrEqual(24);
  }
  // The explanation opened for this creative closes when the next one takes its place.
  const why = page.locator('[data-vitrine-slot="hero"] details.why');
  await why.locator('summary').click();
  await expect(why).toHaveAttribute('open', '');
  await page.locator('[data-vitrine-slot="hero"] button.dismiss').click();
  await expect.poll(() => creative.getAttribute('data-creative'), { timeout: 10_000 }).not.toBe(first);
  await expect(why).not.toHaveAttribute('open', '');
  const decisions = await readStore<{ creativeId: string; dismissal?: boolean }>(page, 'decisions');
  expect(decisions.find((d) => d.creativeId === first)?.dismissal).toBe(true);
  expect((await readStore<{ creativeId: string }>(page, 'dismissed')).map((d) => d.creativeId)).toEqual([first]);
  // After a reload it is still out of every decision's reach.
  await page.reload();
  await expect(creative).toBeVisible({ timeout: 15_000 });
  const shares = await distribution(page);
  expect(shares.length).toBeGreaterThan(10);
  expect(shares.map((s) => s.creativeId)).not.toContain(first);
  expect(pageErrors).toEqual([]);
});

test('the product on screen is never advertised on its own page: matched by any identifier the page carries', async ({ page, pageErrors }) => {
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const shares = (productIds?: string[]) =>
    page.evaluate(
      (context) =>
        (window as unknown as { vitrine: { engine: { distribution(s: string, c: unknown): Promise<{ creativeId: string }[]> } } }).vitrine.engine.distribution(
          'hero',
          context,
        ),
      { pageType: 'product', category: 'bags', hour: 12, device: 'desktop', ...(productIds ? { productIds } : {}) },
    );
  const elsewhere = (await shares()).map((s) => s.creativeId);
  expect(elsewhere).toContain('card-bags-2');
  // A WooCommerce page names its product by its URL (an @id with a fragment), not the catalog's id.
  const origin = new URL(page.url()).origin;
  const onItsPage = (await shares(['0840001000017', `${origin}/product/bags-2/#product`])).map((s) => s.creativeId);
  expect(onItsPage).not.toContain('card-bags-2');
  expect(onItsPage.length).toBe(elsewhere.length - 1);
  expect(pageErrors).toEqual([]);
});

test('a product in the cart is not advertised to that shopper; removed from the cart, it may be again', async ({ page, pageErrors }) => {
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const ids = async () => (await distribution(page)).map((s) => s.creativeId);
  expect(await ids()).toContain('card-bags-2');
  await page.evaluate(() => window.vitrine!('track', 'add_to_cart', { productId: 'bags-2', price: 89 }));
  await expect.poll(ids, { timeout: 10_000 }).not.toContain('card-bags-2');
  await page.evaluate(() => window.vitrine!('track', 'remove_from_cart', { productId: 'bags-2', price: 89 }));
  await expect.poll(ids, { timeout: 10_000 }).toContain('card-bags-2');
  expect(pageErrors).toEqual([]);
});

test('a missing image shows the text-only rendering, not a broken image', async ({ page, pageErrors }) => {
  await editConfig(page, (config) => {
    config.candidates = config.candidates.filter((c) => c.layout === 'product_card').map((c) => ({ ...c, imageUrl: '/images/missing-product.svg' }));
  });
  await page.goto('/fixtures/debug-slot');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const frame = page.locator('[data-vitrine-slot="hero"] .frame');
  await expect(frame).toHaveAttribute('data-layout', 'text');
  await expect(frame.locator('img')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});

test('a template that fails validation on the device is skipped (with one warning) for the next valid candidate', async ({ page, warnings, pageErrors }) => {
  await editConfig(page, (config) => {
    config.templates = config.templates.map((t) => (t.id === 'product-card' ? ({ ...t, layout: 'slideshow' } as unknown as typeof t) : t));
  });
  await page.goto('/fixtures/debug-slot');
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 15_000 });
  expect(warnings.filter((w) => w.includes('template') && w.includes('product-card') && w.includes('layout'))).toHaveLength(1);
  const shares = await distribution(page);
  expect(shares.length).toBeGreaterThan(5);
  expect(shares.some((s) => s.creativeId.startsWith('card-'))).toBe(false);
  expect((await creative.getAttribute('data-creative'))!.startsWith('card-')).toBe(false);
  expect(pageErrors).toEqual([]);
});
