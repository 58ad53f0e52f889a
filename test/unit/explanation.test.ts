import { describe, expect, it } from 'vitest';
import { emptyProfile } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import type { Candidate } from '../../protocol/wire.ts';
import { explainDecision } from '../../widget/engine/explanation.ts';

const candidate: Candidate = {
  id: 'c',
  templateId: 't',
  layout: 'product_card',
  messageType: 'new',
  category: 'running-shoes',
  brand: 'Acme',
  price: 90,
  productName: 'Trail',
  imageUrl: null,
  url: '/p',
  popularity: 0.5,
  listPrice: null,
  items: [],
};
const home = { pageType: 'home' as const, category: null, hour: 12, device: 'desktop' as const };

function profileWith(views: [category: string, brand: string][]) {
  const p = emptyProfile(1000);
  views.forEach(([category, brand], i) => applyEvent(p, { type: 'product_view', at: 1000 + i, category, brand }));
  return p;
}

describe('"why this ad?"', () => {
  it('names the category the shopper viewed', () => {
    expect(
      explainDecision(
        profileWith([
          ['running-shoes', 'Zed'],
          ['running-shoes', 'Zed'],
          ['hats', 'Zed'],
        ]),
        home,
        candidate,
        true,
      ),
    ).toBe('Because you viewed running shoes.');
  });

  it('names the page when the creative is in the category being viewed', () => {
    expect(explainDecision(profileWith([]), { ...home, pageType: 'category', category: 'running-shoes' }, candidate, true)).toBe(
      'Because you are looking at running shoes.',
    );
  });

  it('names a brand when the category is not a reason', () => {
    expect(
      explainDecision(
        profileWith([
          ['hats', 'Acme'],
          ['bags', 'Acme'],
        ]),
        home,
        candidate,
        true,
      ),
    ).toBe('Because you viewed Acme.');
  });

  it('says so when the choice was by popularity, or exploration', () => {
    expect(explainDecision(profileWith([['hats', 'Zed']]), home, candidate, false)).toBe('Popular in this shop right now.');
    expect(explainDecision(profileWith([['hats', 'Zed']]), home, candidate, true)).toMatch(/^Something new .* nothing about you was sent\.$/);
  });
});
