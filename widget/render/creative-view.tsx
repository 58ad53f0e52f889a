/**
 * The creative as the shopper sees it. Every creative string is rendered as text (preact text
 * nodes: never parsed as HTML); links and images come from URLs the schemas allow (http(s) or
 * site-relative). One component per layout; all share the frame with the two shopper controls.
 */
import { useState } from 'preact/hooks';
import type { Decision } from '../engine/engine-api.ts';
import { LAYOUT_TRAITS } from '../../protocol/catalog.ts';
import type { CarouselItem } from '../../protocol/wire.ts';
import { discountOf, fillText } from './fill-text.ts';
import { formatPrice } from './money.ts';
import { explanationText, shopperLanguage, wordsFor } from './shopper-language.ts';

export interface CreativeViewProps {
  decision: Decision;
  /** A click on the creative (or one of a carousel's products): recorded, then the link is followed. */
  onActivate: (event: MouseEvent) => void;
  /** "Not interested": recorded as a negative outcome; the slot is decided again without it. */
  onNotInterested: () => void;
}

function Price({ price, listPrice, currency }: { price: number; listPrice: number | null | undefined; currency: string }) {
  if (!(price > 0)) return null;
  const sale = discountOf(price, listPrice) !== '';
  return (
    <span class="price">
      {formatPrice(price, currency)}
      {sale && <s class="was">{formatPrice(listPrice!, currency)}</s>}
    </span>
  );
}

function CarouselProduct({ item, currency, onActivate }: { item: CarouselItem; currency: string; onActivate: CreativeViewProps['onActivate'] }) {
  const [imageFailed, setImageFailed] = useState(false);
  return (
    <li>
      <a class="item" href={item.url} onClick={onActivate} data-product={item.id}>
        {!imageFailed && <img src={item.imageUrl} alt={item.name} width={72} height={72} loading="lazy" onError={() => setImageFailed(true)} />}
        <span class="name">{item.name}</span>
        <Price price={item.price} listPrice={item.listPrice} currency={currency} />
      </a>
    </li>
  );
}

export function CreativeView({ decision, onActivate, onNotInterested }: CreativeViewProps) {
  const { candidate, template, items, currency } = decision;
  const text = (variants: readonly string[] | undefined) => fillText(variants?.[0] ?? '', candidate, template.fallback, currency);
  const headline = text(template.headline);
  const body = text(template.body);
  const cta = text(template.cta);
  const language = shopperLanguage(document.documentElement.lang, navigator.languages ?? []);
  const words = wordsFor(language);
  const badge = template.badge ? text(template.badge) : words.badge[candidate.messageType];
  const [imageFailed, setImageFailed] = useState(false);
  const imageUrl = template.image ?? candidate.imageUrl;
  // A missing image shows the text-only rendering, never a broken image.
  const layout = LAYOUT_TRAITS[template.layout].image && (imageFailed || !imageUrl) ? 'text' : template.layout;
  const traits = LAYOUT_TRAITS[layout];
  const copy = (
    <span class="copy">
      {badge && <span class="badge">{badge}</span>}
      <span class="headline">{headline}</span>
      {body && <span class="body">{body}</span>}
      {traits.price && <Price price={candidate.price} listPrice={candidate.listPrice} currency={currency} />}
      <span class="cta">{cta}</span>
    </span>
  );
  return (
    <div class={`frame ${layout}`} data-layout={layout}>
      {traits.items ? (
        <div class="creative carousel">
          <a class="lead" href={candidate.url} onClick={onActivate} data-creative={candidate.id}>
            {copy}
          </a>
          <ul class="items">
            {items.map((item) => (
              <CarouselProduct key={item.id} item={item} currency={currency} onActivate={onActivate} />
            ))}
          </ul>
        </div>
      ) : (
        <a class={`creative ${layout}`} href={candidate.url} onClick={onActivate} data-creative={candidate.id}>
          {traits.image && (
            <img src={imageUrl!} alt={candidate.productName || headline} width={96} height={96} loading="lazy" onError={() => setImageFailed(true)} />
          )}
          {copy}
        </a>
      )}
      {/* Beside the link, not in it (a control inside a link is not allowed); it overlays the
          corner, so opening it moves nothing on the page. */}
      <div class="controls">
        {/* Keyed by the decision: an explanation opened for one creative closes when the next one comes. */}
        <details class="why" key={decision.id}>
          <summary>{words.why}</summary>
          <p>{explanationText(decision.why, language)}</p>
        </details>
        <button type="button" class="dismiss" onClick={onNotInterested} aria-label={words.notInterestedIn(headline)}>
          {words.notInterested}
        </button>
      </div>
    </div>
  );
}
