import { describe, expect, it } from 'vitest';
import { formatPrice, usableLocale } from '../../widget/render/money.ts';
import { fillText } from '../../widget/render/fill-text.ts';
import type { Candidate } from '../../protocol/wire.ts';

describe('prices in the shopper language and the site currency', () => {
  it('formats the site currency for the reader', () => {
    expect(formatPrice(278.99, 'USD', 'en-US')).toBe('$278.99');
    expect(formatPrice(278.99, 'EUR', 'de-DE')).toBe('278,99\u00a0€');
    expect(formatPrice(2790, 'JPY', 'ja-JP')).toBe('￥2,790');
    expect(formatPrice(1234.5, 'GBP', 'en-GB')).toBe('£1,234.50');
  });

  it('a language Intl refuses ("C" under a POSIX locale, junk, nothing) formats as English instead of throwing', () => {
    expect(() => new Intl.NumberFormat('C')).toThrow(RangeError);
    for (const tag of ['C', 'C.UTF-8', 'not a tag!', '', null, undefined]) {
      expect(usableLocale(tag)).toBe('en');
      expect(formatPrice(19.5, 'USD', tag)).toBe('$19.50');
    }
    expect(usableLocale('fr-CA')).toBe('fr-CA');
  });

  it('{price} in a template text carries the currency', () => {
    const candidate = { price: 59, listPrice: null, productName: 'Tote', category: 'bags', brand: 'Kestrel' } as unknown as Candidate;
    expect(fillText('Only {price}', candidate, undefined, 'EUR')).toMatch(/^Only (€59\.00|59,00\s€)$/);
  });
});
