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

/** The product described by schema.org microdata (itemscope itemtype=".../Product"). */
export function productFromMicrodata(doc: Document): PageProduct | null {
  const root = doc.querySelector('[itemscope][itemtype$="schema.org/Product"]');
  if (!root) return null;
  const prop = (name: string) => {
    const el = root.querySelector(`[itemprop="${name}"]`);
    if (!el) return '';
    const nested = el.hasAttribute('itemscope') ? el.querySelector('[itemprop="name"]') : null;
    const target = nested ?? el;
    return (target.getAttribute('content') ?? target.textContent ?? '').trim();
  };
  const id = prop('sku') || prop('productID');
  if (!id) return null;
  const price = Number(prop('price'));
  return { id, name: prop('name'), category: prop('category'), brand: prop('brand'), price: Number.isFinite(price) ? price : 0 };
}

/** The product a merchant marked with data-vitrine-product (and -category, -brand, -price, -name). */
export function productFromAttributes(doc: Document): PageProduct | null {
  const el = doc.querySelector<HTMLElement>('[data-vitrine-product]');
  const d = el?.dataset;
  if (!d?.vitrineProduct) return null;
  const price = Number(d.vitrinePrice);
  return {
    id: d.vitrineProduct,
    name: d.vitrineName ?? '',
    category: d.vitrineCategory ?? '',
    brand: d.vitrineBrand ?? '',
    price: Number.isFinite(price) ? price : 0,
  };
}

/** The page's product, from whichever markup the storefront has. */
export function productOnPage(doc: Document): PageProduct | null {
  return productFromJsonLd(doc) ?? productFromMicrodata(doc) ?? productFromAttributes(doc);
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
  };
}
