import { describe, expect, it } from 'vitest';
import { parseLenientJson, parsePrice } from '../../widget/loader/product-markup.ts';

describe("reading a storefront's product markup (the parts that need no DOM; the pages themselves: journeys.spec.ts in three engines)", () => {
  it('reads prices as platforms write them', () => {
    expect(parsePrice(19.9)).toBe(19.9);
    expect(parsePrice('19.90')).toBe(19.9);
    expect(parsePrice('$1,299.00')).toBe(1299);
    expect(parsePrice('1.299,00 €')).toBe(1299);
    expect(parsePrice('19,90')).toBe(19.9);
    expect(parsePrice('1,299')).toBe(1299);
    expect(parsePrice('64.9900')).toBe(64.99);
    expect(parsePrice('1.299.000')).toBe(1299000);
    expect(parsePrice('free')).toBeNull();
    expect(parsePrice(-3)).toBeNull();
    expect(parsePrice(null)).toBeNull();
  });

  it('repairs the JSON-LD merchants ship, and gives up (undefined, no throw) where it cannot', () => {
    expect(parseLenientJson('{"a": 1}')).toEqual({ a: 1 });
    expect(parseLenientJson('// generated\n{"url": "https://x.test/p", /* note */ "b": [1, 2,]}')).toEqual({ url: 'https://x.test/p', b: [1, 2] });
    expect(parseLenientJson('<![CDATA[ {"a": 1} ]]>')).toEqual({ a: 1 });
    expect(parseLenientJson('<!-- {"a": 1} -->')).toEqual({ a: 1 });
    expect(parseLenientJson('{"name": "two\nlines\tand a tab"}')).toEqual({ name: 'two lines and a tab' });
    expect(parseLenientJson('{"a": {"b": 1}}}')).toEqual({ a: { b: 1 } });
    expect(parseLenientJson('{"@type": "Product", "name": "Buck')).toBeUndefined();
    expect(parseLenientJson('')).toBeUndefined();
  });
});
