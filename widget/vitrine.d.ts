/**
 * The page API of Vitrine's script tag, `window.vitrine`, for TypeScript storefronts.
 *
 * Served beside the script as /v1/vitrine.d.ts and published as the folder packages/vitrine-types
 * (its README says how to use it). The loader (widget/loader/index.ts) implements exactly these
 * commands; an unknown command or a malformed call is dropped with a console warning, never
 * thrown into the page.
 */

/** What a page may say about a product. Identifiers are matched to your catalog on the device. */
export interface VitrineProductProps {
  /** Your catalog's product id (`id` is read as a synonym). */
  productId?: string;
  id?: string;
  category?: string;
  brand?: string;
  /** Unit price, in the site's currency. */
  price?: number;
  quantity?: number;
}

/** The events a page may record, and what each carries. Nothing recorded leaves the device. */
export interface VitrineTrackProps {
  product_view: VitrineProductProps;
  category_view: { category: string };
  add_to_cart: VitrineProductProps;
  remove_from_cart: VitrineProductProps;
  /**
   * An order: its total value, its currency (ISO 4217; revenue is counted only in the site's own,
   * and a value without one is taken to be in it), the product (or the first product) bought, and
   * its order id: an order is counted once per id, so a reloaded confirmation page converts
   * nothing again (without an id, each call counts).
   */
  purchase: VitrineProductProps & { value?: number; currency?: string; orderId?: string };
  search: { query: string };
}

export type VitrineEvent = keyof VitrineTrackProps;

/** `window.vitrine`: one function, the command first. */
export interface Vitrine {
  /** Record a shopper event (replayed in order when called before the script loaded). */
  <E extends VitrineEvent>(command: 'track', event: E, props?: VitrineTrackProps[E]): void;
  /** The shopper's consent (with `data-consent="required"`): false wipes what was stored. */
  (command: 'consent', given: boolean): Promise<void> | undefined;
  /** Delete every Vitrine database and queued report on this device. */
  (command: 'forget'): Promise<void> | undefined;
  /** The shopper's stored data, as JSON text ('null' when nothing is stored). */
  (command: 'export'): Promise<string> | undefined;
  /** A single-page app's route change: read the page again and decide every slot anew. */
  (command: 'refresh'): Promise<void> | undefined;
  /** Calls queued by the snippet before the script loaded. */
  q?: ArrayLike<unknown>[];
}

declare global {
  interface Window {
    vitrine?: Vitrine;
  }
}
