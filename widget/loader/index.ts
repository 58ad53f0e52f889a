/**
 * The loader: the script tag's code, on the host page's main thread. It stays small and does
 * only what must happen here: read its settings, replay the command queue, read the page, start
 * the engine worker, render decisions into slots, and watch them. Nothing in it may throw into
 * the host page: every entry point is wrapped, and every failure leaves the merchant's content.
 */
import type { Remote } from 'comlink';
import type { EngineApi } from '../engine/engine-api.ts';
import type { ShopperEvent } from '../../protocol/shopper-events.ts';
import { startEngineWorker } from './engine-connection.ts';
import { productFromJsonLd, readPageContext } from './page-context.ts';
import { sendPreparedReport } from './report-sending.ts';
import { readScriptSettings } from './script-settings.ts';
import type { ScriptSettings } from './script-settings.ts';
import { findSlots, renderDecision } from './slot-rendering.ts';
import { parseTrackCall } from './track-command.ts';

type Command = [name: string, ...args: unknown[]];
type QueueStub = ((...args: unknown[]) => void) & { q?: ArrayLike<unknown>[] };

declare global {
  interface Window {
    vitrine?: QueueStub;
  }
}

const warn = (message: string) => console.warn(`[vitrine] ${message}`);

function boot(script: HTMLScriptElement | null): void {
  const settings = readScriptSettings(script);
  if (typeof settings === 'string') {
    warn(settings);
    return;
  }
  const queued = Array.from(window.vitrine?.q ?? [], (args) => Array.from(args) as Command);
  const pending: ShopperEvent[] = [];
  let engine: Remote<EngineApi> | null = null;

  const runCommand = ([name, ...args]: Command): void => {
    if (name === 'track') {
      const event = parseTrackCall(args[0], args[1], Date.now());
      if (typeof event === 'string') return warn(`track call dropped: ${event}`);
      if (engine) void engine.track([event]).catch((e) => warn(`could not record ${event.type}: ${String(e)}`));
      else pending.push(event);
    } else {
      warn(`unknown command ${JSON.stringify(name)}`);
    }
  };

  const vitrine: QueueStub = (...args: unknown[]) => {
    try {
      runCommand(args as Command);
    } catch (e) {
      warn(`command failed: ${String(e)}`);
    }
  };
  window.vitrine = vitrine;
  for (const command of queued) vitrine(...command);

  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    run(settings, pending, (e) => (engine = e)).catch((e) => warn(`stopped: ${e instanceof Error ? e.message : String(e)}`));
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
}

async function run(settings: ScriptSettings, pending: ShopperEvent[], ready: (engine: Remote<EngineApi>) => void): Promise<void> {
  const { engine } = startEngineWorker(settings.scriptUrl);
  const status = await engine.start({ edge: settings.edge, site: settings.site });
  if (status.state === 'unavailable') {
    warn(`no personalization on this page: ${status.reason}`);
    return;
  }
  if (status.fallbackReason) warn(status.fallbackReason);

  const product = productFromJsonLd(document);
  const page = readPageContext(document, product);
  const now = Date.now();
  const events: ShopperEvent[] = [{ type: 'page_view', at: now, pageType: page.pageType, category: page.category ?? undefined }];
  if (product) events.push({ type: 'product_view', at: now, productId: product.id, category: product.category, brand: product.brand, price: product.price });
  else if (page.pageType === 'category' && page.categoryFromPage) events.push({ type: 'category_view', at: now, category: page.categoryFromPage });
  // Calls made before the engine was up, in the order they were made, after the page's own events.
  await engine.track([...events, ...pending.splice(0)]);
  ready(engine);

  const slots = findSlots(document);
  if (slots.length > 0) {
    const { categoryFromPage: _, ...context } = page;
    const decisions = await engine.decide(
      slots.map((s) => s.dataset.vitrineSlot || 'default'),
      context,
    );
    decisions.forEach((d, i) => renderDecision(slots[i]!, d, engine));
  }
  const flush = () => void engine.prepareReport().then(sendPreparedReport(engine)).catch(() => undefined);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush());
}

try {
  boot(document.currentScript as HTMLScriptElement | null);
} catch (e) {
  warn(`could not start: ${String(e)}`);
}
