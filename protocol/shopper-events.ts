/**
 * What the device records about its shopper. These never leave the device: they feed the
 * profile, and the profile feeds the features.
 */
import type { PageType } from './catalog.ts';

export const EVENT_TYPES = ['page_view', 'product_view', 'category_view', 'add_to_cart', 'remove_from_cart', 'purchase', 'search'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface ShopperEvent {
  type: EventType;
  /** Milliseconds since the epoch, from the device clock. */
  at: number;
  pageType?: PageType;
  productId?: string;
  /** The page's other identifiers of the product (gtin, mpn, its URL...): matched to the catalog on the device (widget/engine/product-identity.ts), never sent. */
  aliases?: string[];
  category?: string;
  brand?: string;
  price?: number;
  quantity?: number;
  /** Order value, for purchases. */
  value?: number;
  /** The order value's currency (ISO 4217), when the page gave one: a value in another currency than the site's is not counted as revenue. */
  currency?: string;
  /** The shop's order id, for purchases: an order recorded again (a confirmation page reloaded) converts nothing twice. */
  orderId?: string;
  query?: string;
}

/** How strongly each event type says "this shopper likes this". */
export const EVENT_WEIGHT: Record<EventType, number> = {
  page_view: 0,
  category_view: 0.5,
  product_view: 1,
  search: 0.5,
  add_to_cart: 3,
  remove_from_cart: 0,
  purchase: 5,
};
