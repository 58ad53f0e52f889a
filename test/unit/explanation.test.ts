import { describe, expect, it } from 'vitest';
import { emptyProfile } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import type { Candidate } from '../../protocol/wire.ts';
import { explainDecision } from '../../widget/engine/explanation.ts';
import { explanationText, LANGUAGES, shopperLanguage, wordsFor } from '../../widget/render/shopper-language.ts';

/** The reason as an English-speaking shopper reads it. */
const say = (...args: Parameters<typeof explainDecision>) => explanationText(explainDecision(...args), 'en');

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
      say(
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
    expect(say(profileWith([]), { ...home, pageType: 'category', category: 'running-shoes' }, candidate, true)).toBe(
      'Because you are looking at running shoes.',
    );
  });

  it('names a brand when the category is not a reason', () => {
    expect(
      say(
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
    expect(say(profileWith([['hats', 'Zed']]), home, candidate, false)).toBe('Popular in this shop right now.');
    expect(say(profileWith([['hats', 'Zed']]), home, candidate, true)).toMatch(/^Something new .* nothing about you was sent\.$/);
  });
});

describe("Vitrine's own words in the shopper's language", () => {
  it("speaks the page's language first, then the browser's, else English", () => {
    expect(shopperLanguage('de-CH', ['en-US'])).toBe('de');
    expect(shopperLanguage('', ['fr-FR', 'en'])).toBe('fr');
    expect(shopperLanguage(null, ['pt-BR', 'nl'])).toBe('nl');
    expect(shopperLanguage('ja', [])).toBe('ja');
    expect(shopperLanguage('pt', ['sv'])).toBe('en');
  });

  it('words every reason and control in each of its languages, each its own', () => {
    const reasons = [{ kind: 'looking_at', subject: 'X' }, { kind: 'viewed', subject: 'X' }, { kind: 'popular' }, { kind: 'explore' }] as const;
    for (const language of LANGUAGES) {
      const w = wordsFor(language);
      for (const r of reasons) expect(explanationText(r, language).length).toBeGreaterThan(5);
      expect(explanationText(reasons[1], language)).toContain('X');
      if (language !== 'en') {
        expect(w.why).not.toBe(wordsFor('en').why);
        expect(w.notInterested).not.toBe(wordsFor('en').notInterested);
      }
      expect(w.notInterestedIn('Harbour Tote')).toContain('Harbour Tote');
    }
    expect(explanationText({ kind: 'viewed', subject: 'Taschen' }, 'de')).toBe('Weil Sie sich Taschen angesehen haben.');
  });
});
