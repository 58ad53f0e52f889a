/**
 * The vocabulary a catalog and its creatives are described in. The feature specification
 * one-hot encodes these lists, so their order is part of the feature-spec hash.
 */

/** What a site id looks like, everywhere one is read: script tags, URLs, admin calls. */
export const SITE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const PAGE_TYPES = ['home', 'category', 'product', 'cart', 'checkout', 'search', 'other'] as const;
export type PageType = (typeof PAGE_TYPES)[number];

export const DEVICE_CLASSES = ['mobile', 'tablet', 'desktop'] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];

export const LAYOUTS = ['banner', 'product_card', 'carousel', 'text'] as const;
export type Layout = (typeof LAYOUTS)[number];

/**
 * What each layout is, in one place: a new layout is one row here (and its rendering), not a
 * comparison in every file that treats carousels or text differently.
 * - `items`: shows several products of its category (the edge attaches them, the device ranks them
 *   and leaves out the product on screen or in the cart, a creative needs at least 2); otherwise
 *   it advertises its own product, which is then never shown to a shopper looking at it or holding it.
 * - `image`: shows the creative's image (without one, or when it fails, it renders as text).
 * - `price`: shows its product's price.
 */
export const LAYOUT_TRAITS: Readonly<Record<Layout, { items: boolean; image: boolean; price: boolean }>> = {
  banner: { items: false, image: true, price: true },
  product_card: { items: false, image: true, price: true },
  carousel: { items: true, image: false, price: false },
  text: { items: false, image: false, price: false },
};

/** The fewest products a creative of a layout with items needs to be shown. */
export const MIN_LAYOUT_ITEMS = 2;

export const MESSAGE_TYPES = ['new', 'sale', 'bestseller', 'personal'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Upper bounds (exclusive) of the price bands, in the site's currency; the last band is open. */
export const PRICE_BAND_LIMITS = [25, 50, 100, 200] as const;
export const PRICE_BANDS = PRICE_BAND_LIMITS.length + 1;

/** Which price band a price falls in (0 = cheapest). */
export function priceBandOf(price: number): number {
  let band = 0;
  while (band < PRICE_BAND_LIMITS.length && price >= PRICE_BAND_LIMITS[band]!) band++;
  return band;
}
