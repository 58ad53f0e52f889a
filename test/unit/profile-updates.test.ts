import { describe, expect, it } from 'vitest';
import { encodeShopper, SHOPPER_DIM } from '../../protocol/features.ts';
import { emptyProfile, isValidProfile, storedScale } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';

const HOUR = 3_600_000;
const page = { pageType: 'home', category: null, hour: 12, device: 'desktop' } as const;

describe('profile updates', () => {
  it('halves an affinity after one half-life, relative to a fresh one', () => {
    const p = emptyProfile(0, 10);
    applyEvent(p, { type: 'product_view', at: 0, category: 'shoes' });
    applyEvent(p, { type: 'product_view', at: 10 * HOUR, category: 'hats' });
    // Stored weights are scaled by 2^(t/halfLife): shoes (older) weighs half of hats now.
    const now = 10 * HOUR;
    const shoes = p.categories.shoes! / storedScale(p, now);
    const hats = p.categories.hats! / storedScale(p, now);
    expect(shoes).toBeCloseTo(0.5, 10);
    expect(hats).toBeCloseTo(1, 10);
  });

  it('keeps values finite over years of events by rebasing', () => {
    const p = emptyProfile(0, 1);
    for (let day = 0; day < 1000; day++) applyEvent(p, { type: 'product_view', at: day * 24 * HOUR, category: 'shoes' });
    const features = encodeShopper(p, page, 1000 * 24 * HOUR);
    expect(features).toHaveLength(SHOPPER_DIM);
    expect(features.every((x) => Number.isFinite(x))).toBe(true);
    expect(p.categories.shoes).toBeGreaterThan(0);
  });

  it('tracks the cart and clears it on purchase', () => {
    const p = emptyProfile(0);
    applyEvent(p, { type: 'add_to_cart', at: 1, category: 'shoes', price: 50, quantity: 2, productId: 'shoes-1' });
    applyEvent(p, { type: 'add_to_cart', at: 1, category: 'hats', price: 20, productId: 'hats-1' });
    expect(p.cart).toEqual({ items: 3, value: 120, products: ['shoes-1', 'hats-1'] });
    applyEvent(p, { type: 'remove_from_cart', at: 2, price: 20, quantity: 1, productId: 'hats-1' });
    expect(p.cart).toEqual({ items: 2, value: 100, products: ['shoes-1'] });
    applyEvent(p, { type: 'purchase', at: 3, value: 100 });
    expect(p.cart).toEqual({ items: 0, value: 0, products: [] });
    expect(p.purchases).toBe(1);
    // A profile stored before carts listed their products still reads as a profile.
    expect(isValidProfile({ ...emptyProfile(0), cart: { items: 1, value: 5 } })).toBe(true);
    expect(isValidProfile({ ...emptyProfile(0), cart: { items: 1, value: 5, products: [3] } })).toBe(false);
  });

  it('moves the encoded category share toward what was viewed', () => {
    const p = emptyProfile(0);
    applyEvent(p, { type: 'product_view', at: 0, category: 'shoes' });
    const before = encodeShopper(p, page, 0);
    applyEvent(p, { type: 'product_view', at: 1, category: 'hats' });
    applyEvent(p, { type: 'product_view', at: 2, category: 'hats' });
    const after = encodeShopper(p, page, 2);
    const changed = Array.from(after.slice(0, 32)).filter((x, i) => Math.abs(x - before[i]!) > 1e-6);
    expect(changed.length).toBeGreaterThan(0);
    expect(after.slice(0, 32).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });
});
