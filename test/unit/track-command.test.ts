import { describe, expect, it } from 'vitest';
import { parseTrackCall } from '../../widget/engine/track-command.ts';

describe("vitrine('track', …) validation", () => {
  it('turns a valid call into an event, keeping only the fields it knows', () => {
    expect(parseTrackCall('add_to_cart', { productId: 'p1', category: 'hats', price: '19.5', quantity: 2, email: 'x@y.z' }, 5)).toEqual({
      type: 'add_to_cart',
      at: 5,
      productId: 'p1',
      category: 'hats',
      brand: undefined,
      price: 19.5,
      quantity: 2,
      value: undefined,
      query: undefined,
    });
  });

  it('drops unknown types, non-object props and props over 4 kB with a reason', () => {
    expect(parseTrackCall('teleport', {}, 0)).toMatch(/unknown event type "teleport"/);
    expect(parseTrackCall('search', 'red shoes', 0)).toBe('props must be an object');
    expect(parseTrackCall('search', { query: 'x'.repeat(5000) }, 0)).toMatch(/the limit is 4096/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(parseTrackCall('search', cyclic, 0)).toBe('props must be plain JSON data');
  });

  it('ignores negative or non-numeric prices instead of storing them', () => {
    const event = parseTrackCall('product_view', { category: 'bags', price: -3 }, 0);
    expect(typeof event).toBe('object');
    expect((event as { price?: number }).price).toBeUndefined();
  });
});
