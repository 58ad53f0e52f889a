/**
 * The e2e test fixture: every test gets a page whose requests to the edge are each checked
 * against the device egress declaration (protocol/egress.ts), and which fails on any uncaught
 * error in the page (`pageerror`): the widget must never throw into the host page.
 */
import { test as base, expect } from '@playwright/test';
import type { Page, Request, Route } from '@playwright/test';
import type { SiteConfig } from '../../protocol/wire.ts';
import { egressViolation } from '../../protocol/egress.ts';
import { ADMIN_TOKEN, EDGE_PORT } from '../../playwright.config.ts';
import { readStoreInPage } from './store-in-page.ts';

export const EDGE = `http://127.0.0.1:${EDGE_PORT}`;

export interface EdgeTraffic {
  requests: Request[];
  violations: string[];
}

export const test = base.extend<{ edgeTraffic: EdgeTraffic; pageErrors: Error[]; warnings: string[] }>({
  edgeTraffic: async ({ context }, use) => {
    const traffic: EdgeTraffic = { requests: [], violations: [] };
    // context-level, so requests made by the engine's Web Worker are seen too
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== EDGE) return;
      traffic.requests.push(request);
      const violation = egressViolation(request.method(), url, request.postDataBuffer(), request.headers());
      if (violation) traffic.violations.push(violation);
    });
    await use(traffic);
    expect(traffic.violations, 'every request to the edge matches the declared egress').toEqual([]);
  },
  pageErrors: async ({ page }, use) => {
    const errors: Error[] = [];
    page.on('pageerror', (e) => errors.push(e));
    await use(errors);
    expect(errors.map(String), 'no uncaught error reached the host page').toEqual([]);
  },
  // Automatic, so every failed test says what the widget warned (and what the page logged), in
  // the CI log itself: an error context is on the CI machine only.
  warnings: [
    async ({ page }, use, testInfo) => {
      const warnings: string[] = [];
      const log: string[] = [];
      const started = Date.now();
      page.on('console', (m) => {
        log.push(`+${Date.now() - started} ms ${m.type()}: ${m.text()}`);
        if (m.type() === 'warning' && m.text().startsWith('[vitrine]')) warnings.push(m.text());
      });
      page.on('requestfailed', (r) => log.push(`+${Date.now() - started} ms request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText})`));
      page.on('worker', (w) => log.push(`+${Date.now() - started} ms worker started: ${w.url().slice(0, 60)}`));
      await use(warnings);
      if (testInfo.status !== testInfo.expectedStatus) {
        const said = log.join('\n') || '(nothing)';
        console.log(`[what the page said in "${testInfo.title}"]\n${said}`);
        await testInfo.attach('what the page said', { body: said, contentType: 'text/plain' });
      }
    },
    { auto: true },
  ],
});
export { expect };

/** All rows of one object store of the site's Vitrine database, read in the page's origin. */
export async function readStore<T>(page: Page, store: string, site = 'demo'): Promise<T[]> {
  return (await page.evaluate(readStoreInPage, [`vitrine:${site}`, store] as [string, string])) as T[];
}

/** The creative's main link in a slot (a carousel's lead link), which carries its id in data-creative. */
export function creativeIn(page: Page, slot: string) {
  return page.locator(`[data-vitrine-slot="${slot}"] a[data-creative]`);
}

/** The open round as its site's admin sees it: its status and deadline, never a count or a sum (those leave the round only noised, after it closes). */
export async function openRound(site = 'demo'): Promise<{ status: string; contributors?: number }> {
  const r = await fetch(`${EDGE}/v1/admin/sites/${site}/rounds/current`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!r.ok) throw new Error(`round: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Serves the site's real config, changed by `edit`, under its own ETag (the worker's fetches are routed too). */
// biome-ignore lint/suspicious/noConfusingVoidType: an edit changes the config in place (returning nothing) or returns a new one
export async function editConfig(page: Page, edit: (config: SiteConfig) => SiteConfig | void): Promise<void> {
  await page.context().route(`${EDGE}/v1/sites/demo/config`, async (route: Route) => {
    const response = await route.fetch({ headers: { ...route.request().headers(), 'cache-control': 'no-cache' } });
    const config = (await response.json()) as SiteConfig;
    const edited = edit(config) ?? config;
    const body = JSON.stringify(edited);
    await route.fulfill({
      response,
      body,
      headers: { ...response.headers(), etag: `"test-${body.length}-${edited.model?.version ?? 'none'}"`, 'cache-control': 'no-store' },
    });
  });
}

/** One eligible creative's probability for a slot (what data-debug's engine.distribution() returns). */
export interface Share {
  creativeId: string;
  category: string;
  probability: number;
}

/** The policy's whole distribution for the hero slot on a home page (the fixture page sets data-debug). */
export function distribution(page: Page): Promise<Share[]> {
  return page.evaluate(
    (context) =>
      (window as unknown as { vitrine: { engine: { distribution(s: string, c: unknown): Promise<Share[]> } } }).vitrine.engine.distribution('hero', context),
    { pageType: 'home', category: null, hour: 12, device: 'desktop' },
  );
}
