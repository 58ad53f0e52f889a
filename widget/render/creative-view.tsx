/** The creative as the shopper sees it: one link, with text rendered as text. */
import type { Candidate, Template } from '../../protocol/wire.ts';
import { fillText } from './fill-text.ts';

export interface CreativeViewProps {
  candidate: Candidate;
  template: Template;
  onActivate: (event: MouseEvent) => void;
  /** "Why this ad?", computed on the device. */
  why: string;
}

const BADGE: Record<Candidate['messageType'], string> = { new: 'New', sale: 'Sale', bestseller: 'Bestseller', personal: 'For you' };

export function CreativeView({ candidate, template, onActivate, why }: CreativeViewProps) {
  const headline = fillText(template.headline[0] ?? '', candidate);
  const body = fillText(template.body?.[0] ?? '', candidate);
  const cta = fillText(template.cta[0] ?? '', candidate);
  const showImage = template.layout !== 'text' && candidate.imageUrl !== null;
  // The explanation sits beside the link (not in it: a control inside a link is not allowed),
  // as a native disclosure: keyboard and screen-reader friendly, no script, no layout shift
  // (it overlays the card's corner).
  return (
    <div class="frame">
      <a class={`creative ${template.layout}`} href={candidate.url} onClick={onActivate} data-creative={candidate.id}>
        {showImage && <img src={candidate.imageUrl!} alt={candidate.productName || headline} width={96} height={96} loading="lazy" />}
        <span class="copy">
          <span class="badge">{BADGE[candidate.messageType]}</span>
          <span class="headline">{headline}</span>
          {body && <span class="body">{body}</span>}
          {template.layout !== 'text' && candidate.price > 0 && <span class="price">{candidate.price.toFixed(2)}</span>}
          <span class="cta">{cta}</span>
        </span>
      </a>
      <details class="why">
        <summary>Why this ad?</summary>
        <p>{why}</p>
      </details>
    </div>
  );
}
