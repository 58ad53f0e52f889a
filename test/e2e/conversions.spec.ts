import { creativeIn, expect, readStore, test } from './vitrine-test.ts';

interface StoredDecision {
  creativeId: string;
  click: boolean;
  clickedAt?: number;
  conversion?: boolean;
}

test('a purchase after a click on a creative converts that decision, on the device', async ({ page, pageErrors }) => {
  await page.goto('/category/bags');
  const creative = creativeIn(page, 'hero');
  await expect(creative).toBeVisible({ timeout: 10_000 });
  const creativeId = await creative.getAttribute('data-creative');
  await creative.click();
  await page.waitForLoadState();
  // The shopper buys something (attribution is post-click, not tied to the product clicked).
  await page.goto('/product/bags-2');
  await page.locator('#add-to-cart').click();
  await page.goto('/order/confirmation');
  await expect(page.locator('#order-summary')).toContainText('is confirmed');
  await expect
    .poll(async () => (await readStore<StoredDecision>(page, 'decisions')).filter((d) => d.conversion).map((d) => d.creativeId), { timeout: 10_000 })
    .toEqual([creativeId]);
  const purchases = (await readStore<{ type: string }>(page, 'events')).filter((e) => e.type === 'purchase');
  expect(purchases).toHaveLength(1);
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
