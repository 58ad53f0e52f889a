/**
 * The fixture of the journeys every engine must pass (journeys.spec.ts runs in the chromium,
 * firefox and webkit projects of playwright.config.ts). Each test gets a `session`: a fresh tab
 * in its engine (test/browsers/). When the test ends, the same assertions hold in every engine:
 *  - every request that reached the edge matches the declared device egress (protocol/egress.ts),
 *    read from the edge's recording proxy, so worker and keepalive requests count too;
 *  - nothing uncaught reached the page and nothing logged a console error, page or worker.
 */
import { test as base, expect } from '@playwright/test';
import type { Browser as PuppeteerBrowser } from 'puppeteer-core';
import { egressViolation } from '../../protocol/egress.ts';
import { EDGE_PORT } from '../../playwright.config.ts';
import type { BrowserSession, ConsoleEntry, EngineName } from '../browsers/browser-session.ts';
import { chromiumSession } from '../browsers/chromium-session.ts';
import { firefoxSession, launchFirefox } from '../browsers/firefox-session.ts';
import { startXvfb, webkitSession } from '../browsers/webkit-session.ts';
import type { RecordedRequest } from '../fixtures/egress-recorder.ts';
import { EGRESS_PATH } from '../fixtures/egress-recorder.ts';
import { readStoreInPage } from './store-in-page.ts';

/** The edge as devices reach it (through the recording proxy). */
export const EDGE = `http://127.0.0.1:${EDGE_PORT}`;
/** The edge itself, for the test's own admin calls, which are not device egress. */
export const EDGE_DIRECT = `http://127.0.0.1:${EDGE_PORT + 1}`;

export interface JourneyOptions {
  engine: EngineName;
}

/** What reached the edge since the test began. */
export async function edgeRequests(): Promise<RecordedRequest[]> {
  return (await (await fetch(`${EDGE}${EGRESS_PATH}`)).json()) as RecordedRequest[];
}

export const test = base.extend<
  { session: BrowserSession; deviceEgress: boolean; posixLocale: boolean },
  JourneyOptions & { firefox: PuppeteerBrowser | null; display: string | null }
>({
  engine: ['chromium', { option: true, scope: 'worker' }],
  firefox: [
    async ({ engine }, use) => {
      const browser = engine === 'firefox' ? await launchFirefox() : null;
      await use(browser);
      await browser?.close();
    },
    { scope: 'worker' },
  ],
  display: [
    async ({ engine }, use) => {
      const xvfb = engine === 'webkit' ? await startXvfb() : null;
      await use(xvfb?.display ?? null);
      xvfb?.stop();
    },
    { scope: 'worker' },
  ],
  /** False for the dashboard, whose admin calls are the merchant's, not a device's. */
  deviceEgress: [true, { option: true }],
  /** WebKit only (its language comes from LANG): the browser's language is "C", as under LANG=C.UTF-8. */
  posixLocale: [false, { option: true }],
  session: async ({ engine, browser, firefox, display, deviceEgress, posixLocale }, use, testInfo) => {
    await fetch(`${EDGE}${EGRESS_PATH}`, { method: 'DELETE' });
    const session =
      engine === 'chromium'
        ? await chromiumSession(browser)
        : engine === 'firefox'
          ? await firefoxSession(firefox!)
          : await webkitSession(display!, posixLocale ? 'C.UTF-8' : 'en_US.UTF-8');
    if (engine === 'webkit' && posixLocale) expect(await session.evaluate(() => navigator.language, null)).toBe('C');
    let logged: ConsoleEntry[] = [];
    try {
      await use(session);
      logged = await session.console();
    } finally {
      await session.close();
    }
    await testInfo.attach('console', { body: logged.map((e) => `${e.type}: ${e.text}`).join('\n') || '(nothing logged)' });
    expect(
      logged.filter((e) => e.type === 'pageerror').map((e) => e.text),
      'nothing uncaught reached the page',
    ).toEqual([]);
    expect(
      logged.filter((e) => e.type === 'error').map((e) => e.text),
      'no console error, page or worker',
    ).toEqual([]);
    if (deviceEgress) {
      const violations = (await edgeRequests()).flatMap(
        (r) => egressViolation(r.method, new URL(r.url, EDGE), r.bodyBase64 === null ? null : Buffer.from(r.bodyBase64, 'base64'), r.headers) ?? [],
      );
      expect(violations, 'every request that reached the edge matches the declared device egress').toEqual([]);
    }
  },
});
export { expect };

/** The creative id in a slot's shadow root, or null while the slot shows the merchant's content. */
export function creativeIn(session: BrowserSession, slot = 'hero'): Promise<string | null> {
  return session.evaluate(
    (name) => document.querySelector(`[data-vitrine-slot="${name}"]`)?.shadowRoot?.querySelector('a[data-creative]')?.getAttribute('data-creative') ?? null,
    slot,
  );
}

/** All rows of one object store of the site's database (read in the page's origin; an absent database is empty). */
export async function storeRows<T>(session: BrowserSession, store: string, site = 'demo'): Promise<T[]> {
  return (await session.evaluate(readStoreInPage, [`vitrine:${site}`, store] as [string, string])) as T[];
}

/** The names of the page origin's Vitrine databases. */
export function vitrineDatabases(session: BrowserSession): Promise<string[]> {
  return session.evaluate(async () => (await indexedDB.databases()).flatMap((d) => (d.name?.startsWith('vitrine:') ? [d.name] : [])), null);
}

/** Runs a `vitrine(...)` command in the page and returns what it resolves to. */
export function command<T>(session: BrowserSession, ...args: unknown[]): Promise<T> {
  return session.evaluate((a) => (window as unknown as { vitrine: (...x: unknown[]) => unknown }).vitrine(...a) as T, args);
}
