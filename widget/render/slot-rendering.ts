/**
 * Rendering decisions into slots and observing what the shopper does with them. The creative
 * lives in the slot's shadow root so host styles cannot break it and its styles cannot leak.
 */
import { h, render } from 'preact';
import type { Decision } from '../engine/engine-api.ts';
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

export function renderDecision(slot: HTMLElement, decision: Decision, engine: OutcomeSink, hooks: RenderHooks): void {
  const root = slot.shadowRoot ?? slot.attachShadow({ mode: 'open' });
  styleShadow(root, CREATIVE_CSS, hooks.nonce);
  const onActivate = (event: MouseEvent) => {
    const recorded = engine
      .recordOutcome(decision.id, 'click')
      .then(() => engine.prepareReport())
      .then(sendPreparedReport(engine));
    // A plain left click navigates this tab: hold it briefly so the click is recorded and the
    // report is on its way (keepalive outlives the page). New-tab clicks need no wait.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const href = (event.currentTarget as HTMLAnchorElement).href;
    const timeout = new Promise((resolve) => setTimeout(resolve, CLICK_RECORD_BUDGET_MS));
    void Promise.race([recorded, timeout]).finally(() => location.assign(href));
  };
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
