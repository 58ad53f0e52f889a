/**
 * What the page says about itself, read from the DOM on the main thread (the only thread that
 * can): page type, the product on a product page (schema.org JSON-LD), its category, the device
 * class and the hour. The worker turns this into features.
 */
import type { PageContext } from '../../protocol/features.ts';
import type { DeviceClass, PageType } from '../../protocol/catalog.ts';
import { PAGE_TYPES } from '../../protocol/catalog.ts';

export interface PageProduct {
  id: string;
  name: string;
  category: string;
  brand: string;
  price: number;
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (value && typeof value === 'object' && 'name' in value) return asText((value as { name: unknown }).name);
  return '';
}

/** The schema.org Product described by JSON-LD on the page, if any. */
export function productFromJsonLd(doc: Document): PageProduct | null {
  for (const script of doc.querySelectorAll('script[type="application/ld+json"]')) {
    let data: unknown;
    try {
      data = JSON.parse(script.textContent ?? '');
    } catch {
      continue; // the merchant's malformed JSON-LD is not our failure
    }
    const nodes = Array.isArray(data) ? data : [data];
    for (const node of nodes) {
      if (!node || typeof node !== 'object' || (node as { '@type'?: unknown })['@type'] !== 'Product') continue;
      const p = node as Record<string, unknown>;
      const offers = (Array.isArray(p.offers) ? p.offers[0] : p.offers) as Record<string, unknown> | undefined;
      const price = Number(offers?.price);
      const id = asText(p.sku) || asText(p.productID);
      if (!id) continue;
      return { id, name: asText(p.name), category: asText(p.category), brand: asText(p.brand), price: Number.isFinite(price) ? price : 0 };
    }
  }
  return null;
}

function deviceClass(width: number): DeviceClass {
  if (width < 768) return 'mobile';
  if (width < 1100) return 'tablet';
  return 'desktop';
}

/** Page type from `<body data-vitrine-page="...">`, else inferred. */
export function readPageContext(doc: Document, product: PageProduct | null): PageContext & { categoryFromPage: string | null } {
  const declared = doc.body?.dataset.vitrinePage as PageType | undefined;
  const pageType: PageType = declared && (PAGE_TYPES as readonly string[]).includes(declared) ? declared : product ? 'product' : location.pathname === '/' ? 'home' : 'other';
  const categoryFromPage = doc.body?.dataset.vitrineCategory ?? null;
  return {
    pageType,
    category: product?.category || categoryFromPage,
    hour: new Date().getHours(),
    device: deviceClass(window.innerWidth),
    categoryFromPage,
  };
}
