/**
 * The type test of the page API (widget/vitrine.d.ts): `npm test` type-checks this file
 * (`npm run typecheck`), so a call that should be accepted and is not, or one that should be
 * refused (each `@ts-expect-error`) and is not, fails the suite.
 */
import type { Vitrine } from '../../widget/vitrine.d.ts';

declare const vitrine: Vitrine;

export async function acceptedCalls(): Promise<void> {
  vitrine('track', 'product_view', { productId: 'sku-1', category: 'bags', brand: 'Ultramar', price: 129 });
  vitrine('track', 'category_view', { category: 'bags' });
  vitrine('track', 'add_to_cart', { id: 'sku-1', quantity: 2 });
  vitrine('track', 'purchase', { value: 258, currency: 'EUR', productId: 'sku-1', orderId: '1042' });
  vitrine('track', 'search', { query: 'rain jacket' });
  vitrine('track', 'remove_from_cart');
  await vitrine('consent', true);
  await vitrine('forget');
  const exported: string | undefined = await vitrine('export');
  void exported;
  await vitrine('refresh');
  // The global the script defines.
  window.vitrine?.('track', 'search', { query: 'boots' });
}

export function refusedCalls(): void {
  // @ts-expect-error an event type Vitrine does not record
  vitrine('track', 'page_visit', {});
  // @ts-expect-error a search carries its query
  vitrine('track', 'search', { productId: 'sku-1' });
  // @ts-expect-error a price is a number
  vitrine('track', 'product_view', { price: '129' });
  // @ts-expect-error consent is true or false
  vitrine('consent', 'yes');
  // @ts-expect-error no such command
  vitrine('identify', 'someone@example.com');
}
