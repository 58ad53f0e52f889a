/**
 * Prices as the shopper reads them: the site's currency (ISO 4217, a site setting) in the
 * shopper's language. A language Intl refuses ("C" under a bare POSIX locale, a typo) formats as
 * English rather than throwing: nothing about a price may break a creative, or the dashboard.
 */

/** `tag` when Intl accepts it as a language, else 'en'. */
export function usableLocale(tag: string | null | undefined): string {
  if (!tag) return 'en';
  try {
    return Intl.NumberFormat.supportedLocalesOf(tag).length > 0 ? tag : 'en';
  } catch {
    return 'en'; // RangeError: not a language tag at all
  }
}

const formats = new Map<string, Intl.NumberFormat>();

/** "$278.99", "278,99 €", "¥2,790": `amount` in `currency`, for a reader of `locale` (default: this browser's language). */
export function formatPrice(amount: number, currency: string, locale: string | null | undefined = globalThis.navigator?.language): string {
  const language = usableLocale(locale);
  const key = `${language} ${currency}`;
  let format = formats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat(language, { style: 'currency', currency });
    } catch {
      format = new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 }); // a currency Intl refuses: the number alone
    }
    formats.set(key, format);
  }
  return format.format(amount);
}
