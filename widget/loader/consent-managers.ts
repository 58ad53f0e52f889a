/**
 * Consent from the page's own consent manager, so a merchant wires nothing: `data-consent="tcf"`,
 * `"gcm"` or `"shopify"` reads the manager's documented API, then follows its changes live. What
 * Vitrine does needs storage on the device and personalized advertising, so consent is given
 * only when the manager says yes to both:
 *
 * - IAB TCF v2.2 (`__tcfapi`, `addEventListener`): where GDPR applies, the publisher's or the
 *   purposes' consent to purpose 1 (store and access information on a device), 3 (create a
 *   personalised advertising profile) and 4 (use it to select advertising); where it does not,
 *   given.
 * - Google Consent Mode v2 (the `consent` commands of `gtag()` in `dataLayer`, `default` then
 *   `update`s, the last value of each signal winning): `ad_storage` and `ad_personalization`
 *   granted. Later commands are followed as they are pushed.
 * - Shopify's Customer Privacy API (`Shopify.customerPrivacy`, loaded with
 *   `Shopify.loadFeatures`): `marketingAllowed()`, and the `visitorConsentCollected` event.
 *
 * A manager that has not answered yet counts as no: nothing is stored or sent before it says yes.
 */
import { followDataLayer } from './data-layer.ts';

export type ConsentManager = 'tcf' | 'gcm' | 'shopify';
export const CONSENT_MANAGERS: readonly ConsentManager[] = ['tcf', 'gcm', 'shopify'];

type Report = (given: boolean) => void;

/** How long to wait for a manager's API to appear before saying so once (it may load late; it keeps being looked for). */
const MANAGER_WAIT_MS = 10_000;
const POLL_MS = 100;

interface TcfData {
  gdprApplies?: boolean;
  eventStatus?: string;
  purpose?: { consents?: Record<string, boolean> };
  publisher?: { consents?: Record<string, boolean> };
}
type TcfApi = (command: string, version: number, callback: (data: TcfData, success: boolean) => void, parameter?: unknown) => void;

/** TCF purposes Vitrine needs: 1 storage on the device, 3 and 4 personalised advertising. */
const TCF_PURPOSES = ['1', '3', '4'];

export function tcfConsent(data: TcfData): boolean {
  if (data.gdprApplies === false) return true;
  return TCF_PURPOSES.every((p) => data.publisher?.consents?.[p] === true || data.purpose?.consents?.[p] === true);
}

/** Consent Mode's state after a list of dataLayer entries: the last `default` or `update` of each signal wins. */
export function consentModeState(entries: ArrayLike<unknown>): Record<string, string> {
  const state: Record<string, string> = {};
  for (const entry of Array.from(entries)) {
    // gtag() pushes its `arguments` object: ['consent', 'default' | 'update', {signal: 'granted' | 'denied'}].
    const args = entry && typeof entry === 'object' && 'length' in entry ? Array.from(entry as ArrayLike<unknown>) : null;
    if (args?.[0] !== 'consent' || (args[1] !== 'default' && args[1] !== 'update')) continue;
    const signals = args[2];
    if (!signals || typeof signals !== 'object') continue;
    for (const [k, v] of Object.entries(signals)) if (typeof v === 'string') state[k] = v;
  }
  return state;
}

export function consentModeGiven(state: Record<string, string>): boolean {
  return state.ad_storage === 'granted' && state.ad_personalization === 'granted';
}

/** Polls for `find()` until it answers, saying once if it takes longer than MANAGER_WAIT_MS. */
function whenAvailable<T>(find: () => T | null | undefined, use: (found: T) => void, warnLate: () => void): void {
  const started = Date.now();
  let warned = false;
  const look = () => {
    const found = find();
    if (found) return use(found);
    if (!warned && Date.now() - started > MANAGER_WAIT_MS) {
      warned = true;
      warnLate();
    }
    setTimeout(look, POLL_MS);
  };
  look();
}

function followTcf(report: Report, warn: (m: string) => void): void {
  whenAvailable(
    () => (window as unknown as { __tcfapi?: TcfApi }).__tcfapi,
    (api) =>
      api('addEventListener', 2, (data, success) => {
        if (success && data) report(tcfConsent(data));
      }),
    () => warn('data-consent="tcf": no __tcfapi on this page yet; nothing is stored or sent until the consent manager answers'),
  );
}

function followConsentMode(report: Report): void {
  let last: boolean | null = null;
  const check = () => {
    const given = consentModeGiven(consentModeState(layer));
    if (given === last) return;
    last = given;
    report(given);
  };
  // Follow later commands as gtag() pushes them.
  const layer = followDataLayer(check);
  check();
}

interface ShopifyPrivacy {
  marketingAllowed?: () => boolean;
}

function followShopify(report: Report, warn: (m: string) => void): void {
  const shopify = () =>
    (window as unknown as { Shopify?: { customerPrivacy?: ShopifyPrivacy; loadFeatures?: (f: unknown[], cb: (e?: unknown) => void) => void } }).Shopify;
  // The API is loaded on request; a theme that has not asked for it yet gets it asked for.
  shopify()?.loadFeatures?.([{ name: 'consent-tracking-api', version: '0.1' }], () => undefined);
  whenAvailable(
    () => shopify()?.customerPrivacy,
    (privacy) => {
      report(privacy.marketingAllowed?.() === true);
      document.addEventListener('visitorConsentCollected', (e) => {
        const detail = (e as CustomEvent<{ marketingAllowed?: boolean }>).detail;
        report(detail?.marketingAllowed ?? privacy.marketingAllowed?.() === true);
      });
    },
    () => warn('data-consent="shopify": no Shopify.customerPrivacy on this page yet; nothing is stored or sent until it answers'),
  );
}

/** Starts following the page's consent manager: `report` gets its answer now (or once it has one) and at every change. */
export function followConsentManager(manager: ConsentManager, report: Report, warn: (m: string) => void): void {
  if (manager === 'tcf') followTcf(report, warn);
  else if (manager === 'gcm') followConsentMode(report);
  else followShopify(report, warn);
}
