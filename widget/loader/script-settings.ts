/**
 * The merchant configures the widget with data-* attributes on its own script tag:
 *   data-site      (required) the site id on the edge
 *   data-edge      (optional) the edge origin; defaults to the origin the script came from
 *   data-consent   (optional) "required": store and send nothing until vitrine('consent', true);
 *                  "tcf", "gcm" or "shopify": the same, with consent read from the page's consent
 *                  manager and followed live (consent-managers.ts)
 *   data-search-param (optional) the query parameter of search result pages (default "q")
 *   data-gpc       (optional) "no-personalization": under Global Privacy Control, do not even
 *                  personalize locally (by default GPC stops reports, and local personalization goes on)
 *   data-debug     (optional) present: window.vitrine.engine is the engine, for a developer's console
 *   data-nonce     (optional) the page's CSP nonce: the renderer's module script carries it (the
 *                  script tag's own nonce is used when this is absent)
 *   data-orders    (optional) "datalayer": purchases are read from the page's GA4 data layer
 *                  (data-layer-orders.ts) instead of needing vitrine('track', 'purchase')
 *   data-answer-ms (optional) how long a slot waits for the engine's answer before the page stops
 *                  waiting and goes on without it (default 1500, from 200 to 60000): past it the
 *                  slot keeps the merchant's content and an in-memory engine takes over
 * The IIFE build has no import.meta.url, so the script's own URL comes from document.currentScript.
 */
import { SITE_ID_PATTERN } from '../../protocol/catalog.ts';
import { CONSENT_MANAGERS } from './consent-managers.ts';
import type { ConsentManager } from './consent-managers.ts';

export interface ScriptSettings {
  site: string;
  edge: string;
  /** URL of the script itself: the engine chunk is found relative to it. */
  scriptUrl: string;
  consentRequired: boolean;
  /** The page's consent manager to read consent from, if the tag names one. */
  consentManager: ConsentManager | null;
  searchParam: string;
  /** What Global Privacy Control turns off: reports only, or personalization too. */
  gpcStops: 'reports' | 'everything';
  debug: boolean;
  /** The CSP nonce for the renderer's module script. */
  nonce: string | undefined;
  /** How long an engine call on the page's path may take before the page stops waiting for it. */
  answerMs: number;
  /** Where purchases come from beside vitrine('track', 'purchase'): the page's data layer, or nowhere else. */
  orders: 'datalayer' | null;
}

/** The default answer bound: a first creative is due in well under it on a phone (README, Benchmarks). */
export const DEFAULT_ANSWER_MS = 1500;
const ANSWER_MS_RANGE = [200, 60_000] as const;

export function readScriptSettings(script: HTMLScriptElement | null): ScriptSettings | string {
  if (!script?.src) return 'could not find its own <script> tag (was it injected without src?)';
  const site = script.dataset.site?.trim();
  if (!site) return 'the script tag has no data-site attribute; add data-site="<your site id>"';
  if (!SITE_ID_PATTERN.test(site)) return `data-site="${site}" is not a valid site id`;
  const scriptUrl = new URL(script.src, location.href);
  let edge = scriptUrl.origin;
  if (script.dataset.edge) {
    try {
      edge = new URL(script.dataset.edge, location.href).origin;
    } catch {
      return `data-edge="${script.dataset.edge}" is not a URL`;
    }
  }
  const consent = script.dataset.consent;
  const consentManager = CONSENT_MANAGERS.find((m) => m === consent) ?? null;
  if (consent !== undefined && consent !== 'required' && !consentManager) {
    return `data-consent="${consent}" is not one of required, ${CONSENT_MANAGERS.join(', ')}`;
  }
  let answerMs = DEFAULT_ANSWER_MS;
  if (script.dataset.answerMs !== undefined) {
    answerMs = Number(script.dataset.answerMs);
    if (!Number.isInteger(answerMs) || answerMs < ANSWER_MS_RANGE[0] || answerMs > ANSWER_MS_RANGE[1]) {
      return `data-answer-ms="${script.dataset.answerMs}" is not a whole number of milliseconds from ${ANSWER_MS_RANGE[0]} to ${ANSWER_MS_RANGE[1]}`;
    }
  }
  const orders = script.dataset.orders;
  if (orders !== undefined && orders !== 'datalayer') return `data-orders="${orders}" is not datalayer`;
  return {
    site,
    edge,
    scriptUrl: scriptUrl.href,
    consentRequired: consent !== undefined,
    consentManager,
    searchParam: script.dataset.searchParam || 'q',
    gpcStops: script.dataset.gpc === 'no-personalization' ? 'everything' : 'reports',
    debug: script.dataset.debug !== undefined,
    nonce: script.dataset.nonce || script.nonce || undefined,
    answerMs,
    orders: orders ?? null,
  };
}
