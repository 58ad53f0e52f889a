/**
 * What the page says about itself, read from the DOM on the main thread (the only thread that
 * can): page type, the product on a product page (product-markup.ts), its category, the device
 * class and the hour. The worker turns this into features.
 */
import type { PageContext } from '../../protocol/features.ts';
import type { DeviceClass, PageType } from '../../protocol/catalog.ts';
import { PAGE_TYPES } from '../../protocol/catalog.ts';
import { productFromJsonLd, productFromMicrodata, productFromRdfa } from './product-markup.ts';
import type { PageProduct } from './product-markup.ts';

export type { PageProduct };

/** The product a merchant marked with data-vitrine-product (and -category, -brand, -price, -name). */
export function productFromAttributes(doc: Document): PageProduct | null {
  const el = doc.querySelector<HTMLElement>('[data-vitrine-product]');
  const d = el?.dataset;
  if (!d?.vitrineProduct) return null;
  const price = Number(d.vitrinePrice);
  return {
    id: d.vitrineProduct,
    ids: [d.vitrineProduct],
    name: d.vitrineName ?? '',
    category: d.vitrineCategory ?? '',
    brand: d.vitrineBrand ?? '',
    price: Number.isFinite(price) ? price : 0,
  };
}

/** The page's product, from whichever markup the storefront has. */
export function productOnPage(doc: Document): PageProduct | null {
  const readers = [productFromJsonLd, productFromMicrodata, productFromRdfa, productFromAttributes];
  for (const read of readers) {
    try {
      const product = read(doc);
      if (product) return product;
    } catch {
      // a reader that meets markup it cannot read gives way to the next source, never to the page
    }
  }
  return null;
}

/** The search query in the page URL (`?q=` unless the script tag names another parameter). */
export function searchQuery(param: string): string | null {
  const q = new URLSearchParams(location.search).get(param)?.trim();
  return q ? q.slice(0, 200) : null;
}

function deviceClass(width: number): DeviceClass {
  if (width < 768) return 'mobile';
  if (width < 1100) return 'tablet';
  return 'desktop';
}

/** Page type from `<body data-vitrine-page="...">`, else inferred. */
export function readPageContext(doc: Document, product: PageProduct | null, search: string | null): PageContext {
  const declared = doc.body?.dataset.vitrinePage as PageType | undefined;
  const inferred: PageType = product ? 'product' : search ? 'search' : location.pathname === '/' ? 'home' : 'other';
  const pageType: PageType = declared && (PAGE_TYPES as readonly string[]).includes(declared) ? declared : inferred;
  return {
    pageType,
    category: product?.category || doc.body?.dataset.vitrineCategory || null,
    hour: new Date().getHours(),
    device: deviceClass(window.innerWidth),
    ...(product ? { productIds: product.ids } : {}),
  };
}
