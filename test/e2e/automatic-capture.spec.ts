import { creativeIn, expect, readStore, test } from './vitrine-test.ts';

interface StoredEvent {
  id: number;
  type: string;
  productId?: string;
  category?: string;
  brand?: string;
  price?: number;
  query?: string;
  pageType?: string;
}

const eventsOf = async (page: import('@playwright/test').Page) => (await readStore<StoredEvent>(page, 'events')).sort((a, b) => a.id - b.id);

test('product views are captured from JSON-LD, microdata and data-vitrine-product without merchant code', async ({ page }) => {
  const expectations: [string, Partial<StoredEvent>][] = [
    ['/product/jackets-2', { productId: 'jackets-2', category: 'jackets' }],
    // Matched to the catalog: its category and brand (the words the creatives use), the page's price.
    ['/fixtures/microdata-product', { productId: 'watches-2', category: 'watches', brand: 'Atelier Sol', price: 199 }],
    ['/fixtures/attribute-product', { productId: 'sunglasses-3', category: 'sunglasses', brand: 'Mono & Co', price: 129.5 }],
  ];
  for (const [url, expected] of expectations) {
    await page.goto(url);
    await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
    const views = (await eventsOf(page)).filter((e) => e.type === 'product_view');
    expect(views.at(-1)).toMatchObject(expected);
  }
});

test('searches are captured from the query parameter, category views from the page', async ({ page }) => {
  await page.goto('/search?q=diver');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  await page.goto('/category/bags');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const events = await eventsOf(page);
  expect(events.find((e) => e.type === 'search')).toMatchObject({ query: 'diver' });
  expect(events.find((e) => e.type === 'page_view' && e.pageType === 'search')).toBeTruthy();
  expect(events.find((e) => e.type === 'category_view')).toMatchObject({ category: 'bags' });
});

test('a decision right after events sees them: the profile holds the views of this page', async ({ page }) => {
  await page.goto('/product/hats-3');
  await expect(creativeIn(page, 'hero')).toBeVisible({ timeout: 15_000 });
  const [profile] = await readStore<{ categories: Record<string, number>; totalEvents: number }>(page, 'profile');
  expect(Object.keys(profile!.categories)).toContain('hats');
  expect(profile!.totalEvents).toBe(2);
});
