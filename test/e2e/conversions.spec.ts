import type { Page } from '@playwright/test';
import { creativeIn, expect, readStore, test } from './vitrine-test.ts';

interface StoredDecision {
  creativeId: string;
  click: boolean;
  clickedAt?: number;
  conversion?: boolean;
  orderValue?: number;
}

/** Clicks the creative on a category page; returns its id. */
async function clickCreative(page: Page): Promise<string | null> {
  await page.goto('/category/bags');
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 10_000 });
  const creativeId = await creative.getAttribute('data-creative');
  const href = await creative.evaluate((a) => (a as HTMLAnchorElement).href);
  // The click navigates once it is recorded (at most 300 ms later): wait for that navigation to land.
  await Promise.all([page.waitForURL(href, { waitUntil: 'load' }), creative.click()]);
  return creativeId;
}

/** The shopper buys something (attribution is post-click, not tied to the product clicked). */
async function buy(page: Page): Promise<void> {
  await page.goto('/product/bags-2');
  await page.locator('#add-to-cart').click();
  await page.goto('/order/confirmation');
  await expect(page.locator('#order-summary')).toContainText('is confirmed');
}

test('a purchase after a click on a creative converts that decision, on the device', async ({ page, pageErrors }) => {
  const creativeId = await clickCreative(page);
  await buy(page);
  await expect
    .poll(async () => (await readStore<StoredDecision>(page, 'decisions')).filter((d) => d.conversion).map((d) => d.creativeId), { timeout: 10_000 })
    .toEqual([creativeId]);
  const purchases = (await readStore<{ type: string }>(page, 'events')).filter((e) => e.type === 'purchase');
  expect(purchases).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test("a GA4 shop's orders come from its data layer (data-orders=\"datalayer\"): the order's value is the conversion's revenue, each order once", async ({
  page,
  pageErrors,
  warnings,
}) => {
  const creativeId = await clickCreative(page);
  await page.goto('/fixtures/ga4-order');
  // The order already in the layer when the script started: recorded, and it converts the click with its value.
  await expect
    .poll(async () => (await readStore<StoredDecision>(page, 'decisions')).filter((d) => d.conversion).map((d) => [d.creativeId, d.orderValue]), {
      timeout: 10_000,
    })
    .toEqual([[creativeId, 84.5]]);
  // gtag('event', 'purchase', ...) pushed later: a second order; the same transaction pushed again: nothing more.
  await page.evaluate(() => {
    const gtag = (window as unknown as { gtag: (...args: unknown[]) => void }).gtag;
    gtag('event', 'purchase', { transaction_id: 'T-1002', value: '19.90', currency: 'USD', items: [{ item_id: 'hats-1' }] });
    gtag('event', 'purchase', { transaction_id: 'T-1002', value: '19.90', currency: 'USD' });
    (window as unknown as { dataLayer: unknown[] }).dataLayer.push({ event: 'page_view' });
  });
  const purchases = async () =>
    (await readStore<{ type: string; value?: number; currency?: string; productId?: string }>(page, 'events'))
      .filter((e) => e.type === 'purchase')
      .map((e) => [e.value, e.currency, e.productId]);
  await expect.poll(purchases, { timeout: 10_000 }).toHaveLength(2);
  await page.waitForTimeout(300);
  expect(await purchases()).toEqual([
    [84.5, 'USD', 'bags-2'],
    [19.9, 'USD', 'hats-1'],
  ]);
  // Another click, then the confirmation page again (a reload): order T-1001 is read again, and converts nothing more.
  await clickCreative(page);
  await expect.poll(async () => (await readStore<StoredDecision>(page, 'decisions')).filter((d) => d.click).length, { timeout: 10_000 }).toBe(2);
  await page.goto('/fixtures/ga4-order');
  await expect.poll(purchases, { timeout: 10_000 }).toHaveLength(3);
  await page.waitForTimeout(500);
  expect((await readStore<StoredDecision>(page, 'decisions')).filter((d) => d.conversion)).toHaveLength(1);
  expect(warnings).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('a purchase with no click before it converts nothing', async ({ page }) => {
  await page.goto('/product/bags-2');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 10_000 });
  await page.locator('#add-to-cart').click();
  await page.goto('/order/confirmation');
  await expect(page.locator('#order-summary')).toContainText('is confirmed');
  await expect.poll(async () => (await readStore<{ type: string }>(page, 'events')).some((e) => e.type === 'purchase')).toBe(true);
  await page.waitForTimeout(300);
  expect((await readStore<StoredDecision>(page, 'decisions')).some((d) => d.conversion)).toBe(false);
});

test('a purchase after the attribution window (7 days by default) converts nothing', async ({ page }) => {
  const creativeId = await clickCreative(page);
  await expect.poll(async () => (await readStore<StoredDecision>(page, 'decisions')).some((d) => d.click), { timeout: 10_000 }).toBe(true);
  // Eight days pass: the stored click is moved back in time (the clock of a real shopper's device).
  await page.evaluate(
    (id) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('vitrine:demo');
        open.onsuccess = () => {
          const tx = open.result.transaction('decisions', 'readwrite');
          const store = tx.objectStore('decisions');
          const all = store.getAll();
          all.onsuccess = () => {
            for (const d of all.result as { creativeId: string; click: boolean; clickedAt?: number; at: number }[]) {
              if (d.creativeId === id && d.click) store.put({ ...d, at: d.at - 8 * 86_400_000, clickedAt: d.clickedAt! - 8 * 86_400_000 });
            }
          };
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    creativeId,
  );
  await buy(page);
  await expect.poll(async () => (await readStore<{ type: string }>(page, 'events')).some((e) => e.type === 'purchase')).toBe(true);
  await page.waitForTimeout(300);
  expect((await readStore<StoredDecision>(page, 'decisions')).some((d) => d.conversion)).toBe(false);
});
