/**
 * A Google Merchant Center feed read into products (protocol/merchant-feed.ts), from fixtures
 * written to its documented XML and TSV formats: every valid row a product the edge's schema
 * accepts, every other row refused with its line, the feed's attribute and the reason.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMerchantFeed } from '../../protocol/merchant-feed.ts';

const feed = (name: string) => readFileSync(path.resolve(import.meta.dirname, '../fixtures/feeds', name), 'utf8');

describe('a Merchant Center feed', () => {
  it('XML: products with prices, sale prices, stock, identifiers and categories; the rest refused with line, attribute and reason', () => {
    const { products, refused } = parseMerchantFeed(feed('merchant-center.xml'), { currency: 'USD' });
    expect(products).toEqual([
      {
        id: 'TS-100',
        name: 'Trail shoe "Ridge" & co',
        category: 'Shoes',
        brand: 'Acme',
        price: 89,
        imageUrl: 'https://shop.example/img/trail-shoe.jpg',
        url: 'https://shop.example/products/trail-shoe',
        inStock: true,
        popularity: 0,
        gtin: '4006381333931',
        mpn: 'TS-100-BLK',
      },
      {
        id: 'RJ-7',
        name: 'Rain jacket',
        category: 'Apparel & Accessories',
        brand: 'Nimbus',
        price: 119,
        listPrice: 140,
        imageUrl: 'https://shop.example/img/rain-jacket.jpg',
        url: 'https://shop.example/products/rain-jacket',
        inStock: false,
        popularity: 0,
      },
    ]);
    expect(refused).toEqual([
      { line: 34, field: 'price', reason: "the price is in EUR; the site's prices are in USD" },
      { line: 43, field: 'brand', reason: "brand is required (the feed's brand attribute)" },
      { line: 51, field: 'image_link', reason: 'a URL must be http(s) or start with a single /' },
      { line: 60, field: 'id', reason: 'id TS-100 is listed twice; the first row is kept' },
    ]);
  });

  it('TSV: the same products from the same attributes; a price that is not one is refused', () => {
    const { products, refused } = parseMerchantFeed(feed('merchant-center.tsv'), { currency: 'USD', categoryLevel: 2 });
    expect(products.map((p) => [p.id, p.category, p.price, p.listPrice, p.inStock, p.gtin])).toEqual([
      ['TS-100', 'Trail', 89, undefined, true, '4006381333931'],
      // One level only: the deepest there is.
      ['RJ-7', 'Outerwear', 119, 140, false, undefined],
    ]);
    expect(refused).toEqual([{ line: 4, field: 'price', reason: '"free" is not a price such as "89.00 USD"' }]);
  });

  it('a feed with no rows gives nothing, and says so by being empty', () => {
    expect(parseMerchantFeed('<rss><channel></channel></rss>', { currency: 'USD' })).toEqual({ products: [], refused: [] });
    expect(parseMerchantFeed('id\ttitle\n', { currency: 'USD' })).toEqual({ products: [], refused: [] });
  });
});
