/** Creative copy that reads well whatever the catalog fills in (widget/render/fill-text.ts). */
import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../protocol/wire.ts';
import { fillText, readable } from '../../widget/render/fill-text.ts';

const candidate = (over: Partial<Candidate>): Candidate =>
  ({ id: 'c', productName: 'Harbour Tote', category: 'bags', brand: 'Ultramar', price: 89, listPrice: null, ...over }) as Candidate;

describe('creative copy', () => {
  it('agrees the article with the brand it precedes', () => {
    expect(fillText('A {brand} favourite', candidate({ brand: 'Ultramar' }))).toBe('An Ultramar favourite');
    expect(fillText('A {brand} favourite', candidate({ brand: 'Kestrel' }))).toBe('A Kestrel favourite');
    expect(fillText('A {brand} favourite', candidate({ brand: 'Unison' }))).toBe('A Unison favourite');
    expect(fillText('Meet a {brand} classic', candidate({ brand: 'Osprey' }))).toBe('Meet an Osprey classic');
  });

  it('opens with a capital when a lowercase value opens the text, and reads category ids as words', () => {
    expect(fillText('{category} picked for you', candidate({ category: 'watches' }))).toBe('Watches picked for you');
    expect(fillText('More {category} to love', candidate({ category: 'running-shoes' }))).toBe('More running shoes to love');
    // A brand's own casing inside the text is kept.
    expect(readable('new from eBay-style sellers')).toBe('New from eBay-style sellers');
  });

  it('falls back to the category, readable, when nothing can be filled', () => {
    expect(fillText('{discount} off', candidate({ category: 'sun-glasses' }))).toBe('Sun glasses');
  });
});
