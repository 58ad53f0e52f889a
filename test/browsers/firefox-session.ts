/**
 * Firefox ESR (Debian's /usr/bin/firefox-esr) driven by puppeteer-core over WebDriver BiDi. One
 * browser per test worker; each session is a fresh browser context (its own storage).
 * puppeteer's waitForFunction and setViewport do not work against Firefox over BiDi: nothing
 * here uses them (journeys poll with `until`).
 */
import puppeteer from 'puppeteer-core';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { until } from './browser-session.ts';
import type { BrowserSession, ConsoleEntry, PageFunction } from './browser-session.ts';

export const FIREFOX = '/usr/bin/firefox-esr';

export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: { 'intl.accept_languages': 'en-US', 'intl.locale.requested': 'en-US' },
  });
}

export async function firefoxSession(browser: Browser): Promise<BrowserSession> {
  const context: BrowserContext = await browser.createBrowserContext();
  const logged: ConsoleEntry[] = [];
  const tabs: Page[] = [];
  const open = async () => {
    const page = await context.newPage();
    page.on('console', (m) => logged.push({ type: m.type() === 'warn' ? 'warning' : m.type(), text: m.text() }));
    page.on('pageerror', (e) => logged.push({ type: 'pageerror', text: e instanceof Error ? e.message : String(e) }));
    tabs.push(page);
    return page;
  };
  await open();
  const page = () => tabs.at(-1)!;
  return {
    engine: 'firefox',
    async goto(url) {
      // Firefox over BiDi now and then never answers a navigation whose page has loaded (about
      // 1% of navigations: microsoft/playwright#42183, puppeteer/puppeteer#13041; it cost a CI
      // run here). So the navigation counts as done when the driver says so or when the page
      // itself shows it: a document without the mark set on the one before, at the URL asked
      // for, finished loading. The driver's answer, if it comes later, is dropped.
      const p = page();
      await p
        .evaluate(() => {
          (window as unknown as { vitrineLeaving?: true }).vitrineLeaving = true;
        })
        .catch(() => undefined);
      const navigated = p.goto(url, { waitUntil: 'load', timeout: 0 }).then(() => undefined);
      navigated.catch(() => undefined);
      let settled = false;
      const loaded = until(
        () => p.evaluate(() => ({ leaving: 'vitrineLeaving' in window, url: location.href, ready: document.readyState })),
        (s) => settled || (!s.leaving && s.url === new URL(url).href && s.ready === 'complete'),
        `the page ${url} loaded`,
        30_000,
      );
      try {
        await Promise.race([navigated, loaded]);
      } finally {
        settled = true; // the poll stops at its next look
        loaded.catch(() => undefined);
      }
    },
    async click(selector, inner) {
      await page().click(inner ? `${selector} >>> ${inner}` : selector);
    },
    async screenshot(selector, file) {
      const element = await page().$(selector);
      if (!element) throw new Error(`no ${selector} to take a picture of`);
      await element.screenshot({ path: file as `${string}.png` });
    },
    async type(selector, text) {
      // The field may not be there yet (a page still rendering): waited for, up to 15 s.
      await page().waitForSelector(selector, { timeout: 15_000 });
      await page().type(selector, text);
    },
    async back() {
      // goBack() waits for a navigation event that a page restored from the cache may not send.
      await page().evaluate(() => history.back());
    },
    async forward() {
      await page().evaluate(() => history.forward());
    },
    async url() {
      return page().url();
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
