/**
 * Rendering decisions into slots and observing what the shopper does with them. The creative
 * lives in the slot's shadow root so host styles cannot break it and its styles cannot leak.
 */
import { h, render } from 'preact';
import { isHoldout } from '../engine/engine-api.ts';
import type { HoldoutDecision, SlotDecision } from '../engine/engine-api.ts';
import type { OutcomeSink } from '../loader/engine-session.ts';
import { CreativeView } from './creative-view.tsx';
import { CREATIVE_CSS } from './creative-styles.ts';
import type { RenderHooks } from './renderer-api.ts';
import { sendPreparedReport } from './keepalive-report.ts';

/** MRC display viewability: at least half of the creative in view for at least one second. */
const VIEWABLE_FRACTION = 0.5;
const VIEWABLE_MS = 1000;
/** How long a click may wait for its outcome to be recorded before the navigation goes on. */
const CLICK_RECORD_BUDGET_MS = 300;

let sheet: CSSStyleSheet | null = null;
/** The viewability watch of each slot's current creative: a re-render ends the previous one. */
const watches = new WeakMap<HTMLElement, () => void>();

function styleShadow(root: ShadowRoot, css: string, nonce: string | undefined): void {
  try {
    sheet ??= new CSSStyleSheet();
    if (sheet.cssRules.length === 0) sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch {
    // Browsers without constructable sheets: a <style> element, carrying the page's CSP nonce.
    if (root.querySelector('style')) return;
    const style = document.createElement('style');
    if (nonce) style.nonce = nonce;
    style.textContent = css;
    root.appendChild(style);
  }
}

/**
 * The click is recorded and the round's report sent; a plain left click that would navigate this
 * tab is held up to CLICK_RECORD_BUDGET_MS for it (keepalive outlives the page). New-tab clicks
 * need no wait. The same for a creative and for a held-out slot's own link, so both sides of the
 * holdout's comparison lose clicks alike.
 */
function recordClick(event: MouseEvent, href: string, decisionId: string, engine: OutcomeSink, mayHold = true): void {
  const recorded = engine
    .recordOutcome(decisionId, 'click')
    .then(() => engine.prepareReport())
    .then(sendPreparedReport(engine));
  if (!mayHold || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.defaultPrevented) return;
  event.preventDefault();
  const timeout = new Promise((resolve) => setTimeout(resolve, CLICK_RECORD_BUDGET_MS));
  void Promise.race([recorded, timeout]).finally(() => location.assign(href));
}

export function renderDecision(slot: HTMLElement, decision: SlotDecision, engine: OutcomeSink, hooks: RenderHooks): void {
  if (isHoldout(decision)) {
    keepOwnContent(slot, decision, engine);
    return;
  }
  const root = slot.shadowRoot ?? slot.attachShadow({ mode: 'open' });
  styleShadow(root, CREATIVE_CSS, hooks.nonce);
  const onActivate = (event: MouseEvent) => recordClick(event, (event.currentTarget as HTMLAnchorElement).href, decision.id, engine);
  const onNotInterested = () => {
    watches.get(slot)?.();
    void engine
      .recordOutcome(decision.id, 'dismissal')
      .then(() => hooks.replace(slot))
      .catch(() => undefined);
  };
  render(h(CreativeView, { decision, onActivate, onNotInterested }), root);
  slot.dataset.vitrineDecision = decision.id;
  watches.get(slot)?.();
  watches.set(
    slot,
    observeViewability(slot, () => void engine.recordOutcome(decision.id, 'impression')),
  );
}

/**
 * A held-out device's slot (protocol/holdout.ts): its own content stays as the merchant made it,
 * untouched, and is measured as a creative is: viewable impressions of the slot, and clicks on
 * the links inside it (a link in a target="_blank" or a merchant handler that prevented the
 * default is recorded without any hold).
 */
function keepOwnContent(slot: HTMLElement, decision: HoldoutDecision, engine: OutcomeSink): void {
  slot.dataset.vitrineHoldout = decision.id;
  const onClick = (event: MouseEvent) => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!(link instanceof HTMLAnchorElement) || !slot.contains(link)) return;
    recordClick(event, link.href, decision.id, engine, !link.target || link.target === '_self');
  };
  watches.get(slot)?.();
  slot.addEventListener('click', onClick);
  const stopViewing = observeViewability(slot, () => void engine.recordOutcome(decision.id, 'impression'));
  watches.set(slot, () => {
    stopViewing();
    slot.removeEventListener('click', onClick);
  });
}

/** Calls onViewable once the target is viewable; returns what stops watching. */
function observeViewability(target: HTMLElement, onViewable: () => void): () => void {
  if (typeof IntersectionObserver === 'undefined') return () => undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const observer = new IntersectionObserver(
    (entries) => {
      const visible = entries.some((e) => e.intersectionRatio >= VIEWABLE_FRACTION);
      if (visible && timer === undefined) {
        timer = setTimeout(() => {
          observer.disconnect();
          onViewable();
        }, VIEWABLE_MS);
      } else if (!visible && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    },
    { threshold: [0, VIEWABLE_FRACTION, 1] },
  );
  observer.observe(target);
  return () => {
    clearTimeout(timer);
    observer.disconnect();
  };
}
