/**
 * Fills a template's text variables from the chosen candidate. Output is plain text: preact
 * renders it as a text node, so no creative string is ever parsed as HTML.
 */
import type { Candidate } from '../../protocol/wire.ts';
import { formatPrice } from './money.ts';

/** "20%" when the price is below the list price, else empty (and the text falls back). */
export function discountOf(price: number, listPrice: number | null | undefined): string {
  if (!listPrice || !(listPrice > price) || !(price >= 0)) return '';
  const percent = Math.round((1 - price / listPrice) * 100);
  return percent >= 1 ? `${percent}%` : '';
}

function fill(text: string, values: Record<string, string>): string | null {
  let missing = false;
  const filled = text.replace(/\{([a-z.]+)\}/g, (_, key: string) => {
    const value = values[key] ?? '';
    if (!value) missing = true;
    return value;
  });
  return missing ? null : filled;
}

/**
 * The text with its variables filled; when one has nothing to fill (a "{discount} off" on a
 * product without a sale), the template's fallback text (filled the same way), else the category.
 */
export function fillText(text: string, candidate: Candidate, fallback?: string, currency = 'USD'): string {
  const values: Record<string, string> = {
    'product.name': candidate.productName,
    category: readableCategory(candidate.category),
    brand: candidate.brand,
    price: candidate.price > 0 ? formatPrice(candidate.price, currency) : '',
    discount: discountOf(candidate.price, candidate.listPrice),
  };
  return readable(fill(text, values) ?? (fallback !== undefined ? fill(fallback, values) : null) ?? values.category!);
}

/** A category id as words: "running-shoes" reads "running shoes". */
function readableCategory(category: string): string {
  return category.replace(/[-_]+/g, ' ').trim();
}

// "a" before a vowel sound reads "an"; words that start with a vowel letter but a consonant sound
// ("a unique", "a European", "a one-off") keep "a".
const AN = /\b(a) (?=[aeiou])(?!(?:uni|use|usu|uti|eu|one|once)\w*)/gi;

/**
 * Copy that reads well whatever was filled in: "A Ultramar favourite" becomes "An Ultramar
 * favourite", and a text that a lowercase value opens ("watches picked for you") starts with a
 * capital. Only the first letter changes: a brand's own casing is kept.
 */
export function readable(text: string): string {
  const fixed = text.replace(AN, (_, a: string) => (a === 'A' ? 'An ' : 'an '));
  return fixed.charAt(0).toLocaleUpperCase() + fixed.slice(1);
}
