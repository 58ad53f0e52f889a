/**
 * uPlot formats its numbers with the browser's language, read when it loads: under a bare POSIX
 * locale that language is "C", which Intl refuses (RangeError), and the whole dashboard stayed
 * blank. This is the dashboard's own page, so it may fix what its libraries read: a language Intl
 * refuses reads as English. (Never done on a merchant's page: the widget formats with
 * usableLocale() instead.) Imported first by main.tsx, so it runs before uPlot is evaluated.
 */
import { usableLocale } from '../widget/render/money.ts';

const language = navigator.language;
if (usableLocale(language) !== language) {
  Object.defineProperty(navigator, 'language', { configurable: true, get: () => 'en' });
}
