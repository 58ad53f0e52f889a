/**
 * Debian's Chromium, through Playwright (the browser the other e2e specs use): each session is
 * a fresh browser context (its own storage).
 */
import type { Browser, Page } from '@playwright/test';
import type { BrowserSession, ConsoleEntry, PageFunction } from './browser-session.ts';

/** Debian's Chromium, and how the tests and the benchmarks launch it (no GPU, no background traffic to Google). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function chromiumSession(browser: Browser): Promise<BrowserSession> {
  const context = await browser.newContext();
  const logged: ConsoleEntry[] = [];
  const tabs: Page[] = [];
  const open = async () => {
    const page = await context.newPage();
    // Playwright reports a page's dedicated workers' console messages on the page too.
    page.on('console', (m) => logged.push({ type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => logged.push({ type: 'pageerror', text: e.message }));
    tabs.push(page);
  };
  await open();
  const page = () => tabs.at(-1)!;
  return {
    engine: 'chromium',
    async goto(url) {
      await page().goto(url, { waitUntil: 'load' });
    },
    async click(selector, inner) {
      // Playwright's CSS selectors pierce open shadow roots.
      await page()
        .locator(inner ? `${selector} ${inner}` : selector)
        .first()
        .click();
    },
    async type(selector, text) {
      await page().locator(selector).pressSequentially(text);
    },
    async back() {
      await page().goBack({ waitUntil: 'commit' });
    },
    async forward() {
      await page().goForward({ waitUntil: 'commit' });
    },
    async url() {
      return page().url();
    },
    async screenshot(selector, file) {
      await page().locator(selector).first().screenshot({ path: file });
    },
    async evaluate<A, T>(fn: PageFunction<A, T>, arg: A): Promise<T> {
      return (await page().evaluate(fn as (a: unknown) => Promise<T>, arg as unknown)) as T;
    },
    async newTab() {
      await open();
    },
    async closeTab() {
      await tabs.pop()!.close();
    },
    async console() {
      return logged.slice();
    },
    async close() {
      await context.close();
    },
  };
}
