/**
 * What a shopper's page sees: the first creative, cold and warm, in Chromium, Firefox ESR and
 * WebKitGTK; the engine worker's heap; and what the widget costs the page it is on.
 */
import { existsSync } from 'node:fs';
import type { Browser } from '@playwright/test';
import type { BrowserSession } from '../test/browsers/browser-session.ts';
import { FIREFOX, firefoxSession, launchFirefox } from '../test/browsers/firefox-session.ts';
import { startXvfb, WEBKIT_DRIVER, webkitSession } from '../test/browsers/webkit-session.ts';
import { EDGE_PORT, median, round, SHOP_PORT } from './bench-common.ts';
import type { Figures } from './bench-common.ts';

/** DOMContentLoaded to the hero's creative painted, read in the page (text: tsx would inject helpers into a function). */
const SINCE_DOM_CONTENT_LOADED = `new Promise((resolve) => {
  const check = () => {
    const nav = performance.getEntriesByType('navigation')[0];
    const painted = document.querySelector('[data-vitrine-slot="hero"]')?.shadowRoot?.querySelector('a[data-creative]');
    if (painted && nav.domContentLoadedEventEnd > 0) requestAnimationFrame(() => resolve(performance.now() - nav.domContentLoadedEventEnd));
    else requestAnimationFrame(check);
  };
  check();
})`;

export async function firstCreative(results: Figures, browser: Browser): Promise<void> {
  const cold: number[] = [];
  const warm: number[] = [];
  const heaps: number[] = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const list of [cold, warm]) {
      await page.goto(`http://127.0.0.1:${SHOP_PORT}/product/watches-${i + 1}`);
      list.push((await page.evaluate(SINCE_DOM_CONTENT_LOADED)) as number);
    }
    heaps.push(await engineWorkerHeapMb(browser));
    await context.close();
  }
  results.first_creative_ms_cold = round(median(cold));
  results.first_creative_ms_warm = round(median(warm));
  results.worker_heap_mb = round(median(heaps));
}

/**
 * The same figure in Firefox ESR and WebKitGTK, through the sessions the journeys use: cold is
 * the first page of a fresh session (its own storage and cache), warm the next product page in it.
 */
async function firstCreativeElsewhere(results: Figures, engine: 'firefox' | 'webkit', open: () => Promise<BrowserSession>): Promise<void> {
  const cold: number[] = [];
  const warm: number[] = [];
  const measure = new Function(`return ${SINCE_DOM_CONTENT_LOADED}`) as () => Promise<number>;
  for (let i = 0; i < 5; i++) {
    const session = await open();
    try {
      for (const list of [cold, warm]) {
        await session.goto(`http://127.0.0.1:${SHOP_PORT}/product/watches-${i + 1}`);
        list.push(await session.evaluate(measure, null));
      }
    } finally {
      await session.close();
    }
  }
  results[`first_creative_ms_cold_${engine}`] = round(median(cold));
  results[`first_creative_ms_warm_${engine}`] = round(median(warm));
}

export async function firstCreativeInOtherEngines(results: Figures): Promise<void> {
  if (existsSync(FIREFOX)) {
    const firefox = await launchFirefox();
    try {
      await firstCreativeElsewhere(results, 'firefox', () => firefoxSession(firefox));
    } finally {
      await firefox.close();
    }
  } else console.error(`no ${FIREFOX}: Firefox figures are null (npm test installs it)`);
  if (existsSync(WEBKIT_DRIVER)) {
    const xvfb = await startXvfb();
    try {
      await firstCreativeElsewhere(results, 'webkit', () => webkitSession(xvfb.display));
    } finally {
      xvfb.stop();
    }
  } else console.error(`no ${WEBKIT_DRIVER}: WebKit figures are null (npm test installs it)`);
}

/**
 * What the widget costs the page it is on: the demo product page loaded with the widget and with
 * its script blocked (the same page otherwise), 5 times each, alternating. Long tasks (> 50 ms,
 * PerformanceObserver 'longtask', from navigation start until 2 s after the creative is painted or
 * the load event) are counted; total blocking time is the sum of each long task's time over 50 ms;
 * the page's JS heap in use (DevTools protocol) is read at the same moment.
 */
export async function pageCost(results: Figures, browser: Browser): Promise<void> {
  const observe = () => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  };
  const runs: Record<'with' | 'without', { count: number; blocking: number; heap: number }[]> = { with: [], without: [] };
  for (let i = 0; i < 5; i++) {
    for (const mode of ['with', 'without'] as const) {
      const context = await browser.newContext();
      if (mode === 'without') await context.route(`http://127.0.0.1:${EDGE_PORT}/v1/vitrine.js`, (route) => route.abort());
      const page = await context.newPage();
      await page.addInitScript(observe);
      await page.goto(`http://127.0.0.1:${SHOP_PORT}/product/bags-${i + 1}`, { waitUntil: 'load' });
      if (mode === 'with')
        await page.waitForFunction(() => document.querySelector('[data-vitrine-slot="hero"]')?.shadowRoot?.querySelector('a[data-creative]'), undefined, {
          timeout: 20_000,
        });
      await page.waitForTimeout(2000);
      const tasks = (await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks)) as number[];
      const cdp = await context.newCDPSession(page);
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      runs[mode].push({ count: tasks.length, blocking: tasks.reduce((sum, d) => sum + Math.max(0, d - 50), 0), heap: usedSize / 1e6 });
      await context.close();
    }
  }
  const m = (mode: 'with' | 'without', key: 'count' | 'blocking' | 'heap') => median(runs[mode].map((r) => r[key]));
  results.page_longtasks_over_50ms = m('with', 'count');
  results.page_longtasks_over_50ms_without_widget = m('without', 'count');
  results.page_blocking_ms_added = round(m('with', 'blocking') - m('without', 'blocking'));
  results.page_heap_delta_mb = round(m('with', 'heap') - m('without', 'heap'));
}

/**
 * The engine worker's JavaScript heap in use (MB), read over the DevTools protocol: a worker has
 * no performance.memory, so the bench attaches to the worker target and asks its runtime.
 */
async function engineWorkerHeapMb(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const worker = targetInfos.find((t) => t.type === 'worker' && t.title === 'vitrine-engine') ?? targetInfos.find((t) => t.type === 'worker');
    if (!worker) throw new Error('no engine worker to measure');
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
    const used = new Promise<number>((resolve) =>
      cdp.on('Target.receivedMessageFromTarget', (e) => {
        const message = JSON.parse(e.message) as { id?: number; result?: { usedSize: number } };
        if (message.id === 1 && message.result) resolve(message.result.usedSize);
      }),
    );
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' }) });
    return (await used) / 1e6;
  } finally {
    await cdp.detach();
  }
}
