/**
 * Which catalog product the page's product is. A page identifies its product by whatever its
 * platform emits (a sku, a GTIN, an MPN, an `@id`, its URL: widget/loader/product-markup.ts); the
 * catalog by its own id and URL. The device knows the catalog products its config carries (each
 * creative's product and the carousels' items), and matches the page's identifiers against their
 * ids and URL paths. A matched view is recorded under the catalog id, with the catalog's category
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

export class ProductIdentity {
  private readonly byKey = new Map<string, Known>();

  constructor(candidates: readonly Candidate[], base: string) {
    const add = (key: string, known: Known) => {
      if (key && !this.byKey.has(key)) this.byKey.set(key, known);
    };
    for (const c of candidates) {
      if (c.productId) {
        const known = { id: c.productId, category: c.category, brand: c.brand, price: c.price };
        add(c.productId, known);
        add(pathOf(c.url, base), known);
      }
      for (const item of c.items) {
        const known = { id: item.id, category: item.category, brand: item.brand, price: item.price };
        add(item.id, known);
        add(pathOf(item.url, base), known);
      }
    }
  }

  /** The catalog product these identifiers name, if the device knows it. */
  catalogId(identifiers: readonly string[], base: string): string | null {
    for (const id of identifiers) {
      const known = this.byKey.get(id) ?? this.byKey.get(pathOf(id, base));
      if (known) return known.id;
    }
    return null;
  }

  /** The event under the catalog's id where one of its identifiers is known (else as it came). */
  resolve(event: ShopperEvent, base: string): ShopperEvent {
    if (!event.productId) return event;
    const { aliases, ...rest } = event;
    const identifiers = [event.productId, ...(aliases ?? [])];
    let known: Known | undefined;
    for (const id of identifiers) {
      known = this.byKey.get(id) ?? this.byKey.get(pathOf(id, base));
      if (known) break;
    }
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
