/**
 * Fills a template's text variables from the chosen candidate. Output is plain text: preact
 * renders it as a text node, so no creative string is ever parsed as HTML.
 */
import type { Candidate } from '../../protocol/wire.ts';

export function fillText(text: string, candidate: Candidate): string {
  const values: Record<string, string> = {
    'product.name': candidate.productName,
    category: candidate.category,
    brand: candidate.brand,
    price: candidate.price > 0 ? candidate.price.toFixed(2) : '',
  };
  let missing = false;
  const filled = text.replace(/\{([a-z.]+)\}/g, (_, key: string) => {
    const value = values[key] ?? '';
    if (!value) missing = true;
    return value;
  });
  // A variable with nothing to fill would leave a hole ("New in "): fall back to the category.
  return missing ? candidate.category || filled.trim() : filled;
}
