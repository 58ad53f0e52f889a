/**
 * The loader: the script tag's code, on the host page's main thread. It stays small and does
 * only what must happen here: read its settings, replay the command queue, read the page, start
 * the engine worker, render decisions into slots, and watch them. Nothing in it may throw into
 * the host page: every entry point is wrapped, and every failure leaves the merchant's content.
 */
import type { Remote } from 'comlink';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';
import type { EngineApi } from '../engine/engine-api.ts';
import { EngineSession } from './engine-session.ts';
import { productOnPage, readPageContext, searchQuery } from './page-context.ts';
import { followConsentManager } from './consent-managers.ts';
import { followDataLayerOrders } from './data-layer-orders.ts';
import type { PageContext } from '../../protocol/features.ts';
import { loadRenderer, reserveSlotSpace } from './renderer-loading.ts';
import { answerWithin } from '../answer-bound.ts';
import { readScriptSettings } from './script-settings.ts';

import type { Vitrine } from '../vitrine.d.ts';

/** The implementation takes anything (a page's call is checked here, not trusted); the page sees the typed API, widget/vitrine.d.ts. */
type QueueStub = ((...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[] };

const warn = (message: string) => console.warn(`[vitrine] ${message}`);

/** The page's own events (view, product, category), recorded once per engine start. */
function pageEvents(searchParam: string): { events: ShopperEvent[]; context: ReturnType<typeof readPageContext> } {
  const product = productOnPage(document);
  const query = searchQuery(searchParam);
  const context = readPageContext(document, product, query);
  const at = Date.now();
  const events: ShopperEvent[] = [{ type: 'page_view', at, pageType: context.pageType, category: context.category ?? undefined }];
  if (query) events.push({ type: 'search', at, query });
  if (product) {
    const aliases = product.ids.slice(1);
    events.push({
      type: 'product_view',
      at,
      productId: product.id,
      ...(aliases.length ? { aliases } : {}),
      category: product.category,
      brand: product.brand,
      price: product.price,
    });
  }
  // Without a product, the page's category is the one the page declares.
  else if (context.pageType === 'category' && context.category) events.push({ type: 'category_view', at, category: context.category });
  return { events, context };
}

function boot(script: HTMLScriptElement | null): void {
  const settings = readScriptSettings(script);
  if (typeof settings === 'string') {
    warn(settings);
    return;
  }
  const queued = Array.from(window.vitrine?.q ?? [], (args) => Array.from(args));
  const pending: [unknown, unknown][] = [];
  let live: Remote<EngineApi> | null = null;

  /** Decides the given slots and renders them (the renderer chunk loads meanwhile). */
  const fill = async (engine: Remote<EngineApi>, slots: HTMLElement[], context: PageContext) => {
    const [decisions, renderer] = await Promise.all([
      session.answered(
        engine.decide(
          slots.map((s) => s.dataset.vitrineSlot || 'default'),
          context,
        ),
        'deciding',
      ),
      // Bounded as the engine's start is: a renderer chunk that never arrives is a warning, not a silent blank.
      answerWithin(
        loadRenderer(settings.scriptUrl, settings.nonce),
        2 * settings.answerMs,
        () => new Error(`the renderer did not load within ${2 * settings.answerMs} ms`),
      ),
    ]);
    // "Not interested": the engine has excluded that creative; this slot gets the next decision.
    const hooks = { nonce: settings.nonce, replace: (slot: HTMLElement) => void fill(engine, [slot], context).catch((e) => warn(String(e))) };
    decisions.forEach((d, i) => renderer.renderDecision(slots[i]!, d, session.outcomes, hooks));
  };

  const showPage = async (engine: Remote<EngineApi>) => {
    const { events, context } = pageEvents(settings.searchParam);
    await session.answered(engine.track(events), 'recording the page');
    // Calls made before the engine was up, in the order they were made, after the page's own events.
    (await session.answered(engine.trackCalls(pending.splice(0)), 'recording the queued calls')).forEach(warn);
    live = engine;
    // data-debug: the engine for a developer's console (and the tests); never on a live shop.
    if (settings.debug) Object.assign(vitrine, { engine });
    const slots = Array.from(document.querySelectorAll<HTMLElement>('[data-vitrine-slot]'));
    if (slots.length > 0) await fill(engine, slots, context);
  };
  const session = new EngineSession(settings, showPage, warn);

  const commands: Record<string, (...args: unknown[]) => unknown> = {
    track(type, props) {
      if (!live) return void pending.push([type, props]);
      live.trackCalls([[type, props]]).then(
        (dropped) => dropped.forEach(warn),
        (e) => warn(`could not record ${String(type)}: ${String(e)}`),
      );
    },
    consent(given) {
      if (typeof given !== 'boolean') return warn('consent takes true or false');
      live = null; // events from now on wait for the engine that the new choice starts
      return session.setConsent(given);
    },
    forget: async () => {
      pending.length = 0;
      await (await session.engine())?.forget();
    },
    export: async () => (await (await session.engine())?.exportData()) ?? 'null',
    // A single-page app's route change: read the page again, record it, and decide anew.
    refresh: () => live && showPage(live),
  };

  const vitrine: QueueStub = (name, ...args) => {
    try {
      const command = typeof name === 'string' ? commands[name] : undefined;
      if (!command) return warn(`unknown command ${JSON.stringify(name)}`);
      const result = command(...args);
      // Promises resolve for the caller; a failure becomes a warning, never a rejection into the page.
      return result instanceof Promise ? result.catch((e) => warn(`${name} failed: ${String(e)}`)) : undefined;
    } catch (e) {
      warn(`command failed: ${String(e)}`);
    }
  };
  window.vitrine = vitrine as Vitrine;
  for (const command of queued) vitrine(...command);
  // Consent from the page's own consent manager, followed live (a withdrawal wipes, as consent false does).
  if (settings.consentManager) {
    followConsentManager(
      settings.consentManager,
      (given) => {
        live = null;
        session.setConsent(given, !given).catch((e) => warn(`consent: ${String(e)}`));
      },
      warn,
    );
  }
  if (!session.allowed) return;
  // Purchases from the page's GA4 data layer, recorded as the page's own track calls would be.
  if (settings.orders === 'datalayer') {
    followDataLayerOrders((o) => vitrine('track', 'purchase', { value: o.value, currency: o.currency, productId: o.productId, orderId: o.transactionId }));
  }
  reserveSlotSpace();

  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    // The renderer downloads while the engine starts (the same promise serves the first render).
    loadRenderer(settings.scriptUrl, settings.nonce).catch((e) => warn(String(e)));
    session.start().catch((e) => warn(`stopped: ${e instanceof Error ? e.message : String(e)}`));
  };
  // The engine never competes with the page's own work: it starts at the page's load event, or
  // earlier when the main thread is idle (the page is only waiting on the network then).
  if (document.readyState === 'complete') setTimeout(start, 0);
  else {
    window.addEventListener('load', () => setTimeout(start, 0), { once: true });
    if (typeof requestIdleCallback === 'function') {
      document.addEventListener('DOMContentLoaded', () => requestIdleCallback(start), { once: true });
      if (document.readyState === 'interactive') requestIdleCallback(start);
    }
  }
  // A page going into the back/forward cache (or frozen in the background) keeps no worker: a
  // frozen worker's IndexedDB transaction would hold its locks against the next page's engine.
  // Nothing is prepared or sent at these moments (no IndexedDB work may start as a page hides):
  // reports leave on a click (keepalive) and when the next engine starts (the outbox).
  const away = () => {
    live = null;
    session.suspend();
  };
  window.addEventListener('pagehide', (e) => e.persisted && away());
  document.addEventListener('freeze', away);
  window.addEventListener('pageshow', (e) => e.persisted && session.resume());
  document.addEventListener('resume', () => session.resume());
}

try {
  boot(document.currentScript as HTMLScriptElement | null);
} catch (e) {
  warn(`could not start: ${String(e)}`);
}
