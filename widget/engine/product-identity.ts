/**
 * Which catalog product the page's product is. A page identifies its product by whatever its
 * platform emits (a sku, a GTIN, an MPN, an `@id`, its URL: widget/loader/product-markup.ts); the
 * catalog by its own id and URL. The device knows the catalog products its config carries (each
 * creative's product and the carousels' items), and matches the page's identifiers against their
 * ids, URL paths, GTINs (leading zeros aside) and MPNs. A matched view is recorded under the catalog id, with the catalog's category
 * and brand (and its price where the page gave none), so it counts towards the profile in the
 * creatives' own words. Nothing here leaves the device.
 */
import type { Candidate } from '../../protocol/wire.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';

interface Known {
  id: string;
  category: string;
  brand: string;
  price: number;
}

/**
 * A URL's path without a trailing slash, against the page's origin ("" when not a URL). The host
 * is left out: a shop's catalog may name one of its origins and its pages another (www or not).
 */
function pathOf(url: string, base: string): string {
  if (!/^(https?:\/\/|\/(?!\/))/i.test(url)) return '';
  try {
    const u = new URL(url, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.pathname.replace(/\/+$/, '') : '';
  } catch {
    return '';
  }
}

/** A GTIN's digits without leading zeros: a GTIN-13 and the same GTIN-14 with a leading zero are one product ("" when not a GTIN). */
export function gtinKey(text: string): string {
  const digits = text.replace(/[\s-]/g, '');
  return /^(\d{8}|\d{12,14})$/.test(digits) ? `gtin:${digits.replace(/^0+/, '')}` : '';
}

export class ProductIdentity {
  private readonly byKey = new Map<string, Known>();

  constructor(candidates: readonly Candidate[], base: string) {
    const add = (key: string, known: Known) => {
      if (key && !this.byKey.has(key)) this.byKey.set(key, known);
    };
    const addAll = (p: { url: string; gtin?: string; mpn?: string }, known: Known) => {
      add(known.id, known);
      add(pathOf(p.url, base), known);
      if (p.gtin) add(gtinKey(p.gtin), known);
      if (p.mpn) add(`mpn:${p.mpn}`, known);
    };
    for (const c of candidates) {
      if (c.productId) addAll(c, { id: c.productId, category: c.category, brand: c.brand, price: c.price });
      for (const item of c.items) addAll(item, { id: item.id, category: item.category, brand: item.brand, price: item.price });
    }
  }

  /** The catalog product these identifiers name, if the device knows it. */
  catalogId(identifiers: readonly string[], base: string): string | null {
    return this.first(identifiers, base)?.id ?? null;
  }

  /** The product the first identifier the device knows names: as an id, a URL's path, a GTIN or an MPN. */
  private first(identifiers: readonly string[], base: string): Known | undefined {
    for (const id of identifiers) {
      const known = this.byKey.get(id) ?? this.byKey.get(pathOf(id, base)) ?? this.byKey.get(gtinKey(id)) ?? this.byKey.get(`mpn:${id}`);
      if (known) return known;
    }
    return undefined;
  }

  /** The event under the catalog's id where one of its identifiers is known (else as it came). */
  resolve(event: ShopperEvent, base: string): ShopperEvent {
    if (!event.productId) return event;
    const { aliases, ...rest } = event;
    const known = this.first([event.productId, ...(aliases ?? [])], base);
    if (!known) return rest;
    return {
      ...rest,
      productId: known.id,
      // The catalog's category and brand: the words the creatives use (a page's "Apparel > Coats
      // & Jackets" is not the catalog's "jackets"); the page's price: what the shopper saw.
      category: known.category,
      brand: known.brand,
      price: event.price || known.price,
    };
  }
}

const identities = new WeakMap<readonly Candidate[], ProductIdentity>();

function identityOf(candidates: readonly Candidate[], base: string): ProductIdentity {
  const identity = identities.get(candidates) ?? new ProductIdentity(candidates, base);
  identities.set(candidates, identity);
  return identity;
}

/** The catalog id of the product on the page (PageContext.productIds), if the device knows it: never advertised back on its own page. */
export function productOnScreen(productIds: readonly string[] | undefined, candidates: readonly Candidate[], base: string): string | null {
  return productIds?.length ? identityOf(candidates, base).catalogId(productIds, base) : null;
}

/** The events with their products matched to the catalog the config carries (one index per config). */
export function resolveProducts(events: ShopperEvent[], candidates: readonly Candidate[] | undefined, base: string): ShopperEvent[] {
  if (!candidates || !events.some((e) => e.productId)) return events.map(({ aliases: _, ...e }) => e);
  const identity = identityOf(candidates, base);
  return events.map((e) => identity.resolve(e, base));
}
