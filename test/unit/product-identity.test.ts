/**
 * Matching the page's product to the catalog by whatever identifier each has: the catalog's id,
 * its URL's path, its GTIN (a GTIN-13 and the same GTIN-14 with a leading zero are one product)
 * and its MPN; carousels' items count as known products too.
 */
import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../protocol/wire.ts';
import { productOnScreen, resolveProducts } from '../../widget/engine/product-identity.ts';

const BASE = 'https://shop.example';
const candidate = (over: Partial<Candidate>): Candidate => ({
  id: 'c-1',
  templateId: 't',
  layout: 'product_card',
  messageType: 'sale',
  category: 'shoes',
  brand: 'Acme',
  price: 89,
  productName: 'Trail shoe',
  productId: 'sku-1',
  listPrice: null,
  imageUrl: null,
  url: 'https://shop.example/products/trail-shoe',
  popularity: 0.5,
  items: [],
  ...over,
});

describe("the page's product, matched to the catalog", () => {
  const candidates = [
    candidate({ gtin: '4006381333931', mpn: 'TS-100' }),
    candidate({
      id: 'c-2',
      layout: 'carousel',
      productId: undefined,
      items: [
        {
          id: 'sku-9',
          name: 'Rain jacket',
          brand: 'Nimbus',
          category: 'jackets',
          price: 140,
          listPrice: null,
          imageUrl: 'https://shop.example/j.svg',
          url: 'https://shop.example/products/rain-jacket',
          popularity: 0.2,
          gtin: '00012345678905',
        },
      ],
    }),
  ];

  it('by the id, the URL, the GTIN whatever its leading zeros, or the MPN', () => {
    expect(productOnScreen(['sku-1'], candidates, BASE)).toBe('sku-1');
    expect(productOnScreen(['https://www.shop.example/products/trail-shoe/'], candidates, BASE)).toBe('sku-1');
    expect(productOnScreen(['04006381333931'], candidates, BASE)).toBe('sku-1');
    expect(productOnScreen(['TS-100'], candidates, BASE)).toBe('sku-1');
    // A carousel item's GTIN-12, named by the page as a GTIN-13.
    expect(productOnScreen(['0012345678905'], candidates, BASE)).toBe('sku-9');
  });

  it('not by a GTIN or MPN the catalog does not have, nor by a partial one', () => {
    expect(productOnScreen(['4006381333932'], candidates, BASE)).toBeNull();
    expect(productOnScreen(['400638133393'], candidates, BASE)).toBeNull();
    expect(productOnScreen(['TS-10'], candidates, BASE)).toBeNull();
  });

  it("records a view named by a GTIN under the catalog's id, category and brand", () => {
    const [event] = resolveProducts(
      [{ type: 'product_view', at: 1, productId: 'gid://shopify/Product/1', aliases: ['4006381333931'], category: 'Apparel > Shoes', brand: 'ACME', price: 0 }],
      candidates,
      BASE,
    );
    expect(event).toMatchObject({ productId: 'sku-1', category: 'shoes', brand: 'Acme', price: 89 });
  });
});
