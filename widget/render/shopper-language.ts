/**
 * The words a shopper reads that are Vitrine's own (the creative's copy is the merchant's): the
 * controls, the badges and "Why this ad?"'s sentence, in the page's language (its `<html lang>`,
 * else the browser's), English when Vitrine does not speak it. Prices are already localized by
 * money.ts; these follow the same page.
 */
import type { MessageType } from '../../protocol/catalog.ts';
import type { Explanation } from '../engine/explanation.ts';

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'ja'] as const;
export type Language = (typeof LANGUAGES)[number];

interface Words {
  why: string;
  notInterested: string;
  notInterestedIn: (headline: string) => string;
  badge: Record<MessageType, string>;
  lookingAt: (subject: string) => string;
  viewed: (subject: string) => string;
  popular: string;
  explore: string;
}

const WORDS: Record<Language, Words> = {
  en: {
    why: 'Why this ad?',
    notInterested: 'Not interested',
    notInterestedIn: (h) => `Not interested in this ad: ${h}`,
    badge: { new: 'New', sale: 'Sale', bestseller: 'Bestseller', personal: 'For you' },
    lookingAt: (s) => `Because you are looking at ${s}.`,
    viewed: (s) => `Because you viewed ${s}.`,
    popular: 'Popular in this shop right now.',
    explore: 'Something new we think you may like. Chosen on this device from what you browsed here; nothing about you was sent.',
  },
  de: {
    why: 'Warum diese Anzeige?',
    notInterested: 'Kein Interesse',
    notInterestedIn: (h) => `Kein Interesse an dieser Anzeige: ${h}`,
    badge: { new: 'Neu', sale: 'Sale', bestseller: 'Bestseller', personal: 'Für Sie' },
    lookingAt: (s) => `Weil Sie sich gerade ${s} ansehen.`,
    viewed: (s) => `Weil Sie sich ${s} angesehen haben.`,
    popular: 'Gerade beliebt in diesem Shop.',
    explore: 'Etwas Neues, das Ihnen gefallen könnte. Auf diesem Gerät ausgewählt aus dem, was Sie hier angesehen haben; nichts über Sie wurde gesendet.',
  },
  fr: {
    why: 'Pourquoi cette annonce ?',
    notInterested: 'Pas intéressé',
    notInterestedIn: (h) => `Pas intéressé par cette annonce : ${h}`,
    badge: { new: 'Nouveau', sale: 'Promo', bestseller: 'Meilleure vente', personal: 'Pour vous' },
    lookingAt: (s) => `Parce que vous regardez : ${s}.`,
    viewed: (s) => `Parce que vous avez consulté : ${s}.`,
    popular: 'Populaire dans cette boutique en ce moment.',
    explore: "Une nouveauté qui pourrait vous plaire. Choisie sur cet appareil d'après ce que vous avez consulté ici ; rien vous concernant n'a été envoyé.",
  },
  es: {
    why: '¿Por qué este anuncio?',
    notInterested: 'No me interesa',
    notInterestedIn: (h) => `No me interesa este anuncio: ${h}`,
    badge: { new: 'Nuevo', sale: 'Oferta', bestseller: 'Más vendido', personal: 'Para ti' },
    lookingAt: (s) => `Porque estás viendo: ${s}.`,
    viewed: (s) => `Porque has visto: ${s}.`,
    popular: 'Popular en esta tienda ahora mismo.',
    explore: 'Algo nuevo que creemos que te puede gustar. Elegido en este dispositivo a partir de lo que has visto aquí; no se ha enviado nada sobre ti.',
  },
  it: {
    why: 'Perché questo annuncio?',
    notInterested: 'Non mi interessa',
    notInterestedIn: (h) => `Non mi interessa questo annuncio: ${h}`,
    badge: { new: 'Novità', sale: 'Saldi', bestseller: 'Più venduto', personal: 'Per te' },
    lookingAt: (s) => `Perché stai guardando: ${s}.`,
    viewed: (s) => `Perché hai visto: ${s}.`,
    popular: 'Popolare in questo negozio in questo momento.',
    explore: 'Qualcosa di nuovo che potrebbe piacerti. Scelto su questo dispositivo in base a ciò che hai visto qui; nulla su di te è stato inviato.',
  },
  nl: {
    why: 'Waarom deze advertentie?',
    notInterested: 'Niet geïnteresseerd',
    notInterestedIn: (h) => `Niet geïnteresseerd in deze advertentie: ${h}`,
    badge: { new: 'Nieuw', sale: 'Aanbieding', bestseller: 'Bestseller', personal: 'Voor jou' },
    lookingAt: (s) => `Omdat je naar ${s} kijkt.`,
    viewed: (s) => `Omdat je ${s} hebt bekeken.`,
    popular: 'Nu populair in deze winkel.',
    explore: 'Iets nieuws dat je misschien leuk vindt. Gekozen op dit apparaat op basis van wat je hier bekeek; er is niets over jou verstuurd.',
  },
  ja: {
    why: 'この広告が表示される理由',
    notInterested: '興味なし',
    notInterestedIn: (h) => `この広告に興味なし: ${h}`,
    badge: { new: '新着', sale: 'セール', bestseller: 'ベストセラー', personal: 'おすすめ' },
    lookingAt: (s) => `${s}をご覧になっているためです。`,
    viewed: (s) => `${s}を閲覧されたためです。`,
    popular: 'このショップで今人気です。',
    explore: 'お気に召しそうな新しい商品です。このサイトでの閲覧内容をもとに、この端末上で選ばれました。お客様の情報は送信されていません。',
  },
};

/** The first of the page's and the browser's languages Vitrine speaks, else English. */
export function shopperLanguage(pageLang: string | null | undefined, browserLangs: readonly string[] = []): Language {
  for (const tag of [pageLang ?? '', ...browserLangs]) {
    const primary = tag.trim().toLowerCase().split(/[-_]/)[0] as Language;
    if ((LANGUAGES as readonly string[]).includes(primary)) return primary;
  }
  return 'en';
}

export function wordsFor(language: Language): Words {
  return WORDS[language];
}

/** "Why this ad?"'s sentence in the shopper's language. */
export function explanationText(e: Explanation, language: Language): string {
  const w = WORDS[language];
  if (e.kind === 'looking_at') return w.lookingAt(e.subject);
  if (e.kind === 'viewed') return w.viewed(e.subject);
  return e.kind === 'popular' ? w.popular : w.explore;
}
