/**
 * The e2e test fixture: every test gets a page whose requests to the edge are each checked
 * against the device egress declaration (protocol/egress.ts), and which fails on any uncaught
 * error in the page (`pageerror`): the widget must never throw into the host page.
 */
import { test as base, expect } from '@playwright/test';
import type { Page, Request } from '@playwright/test';
import { egressViolation } from '../../protocol/egress.ts';
import { ADMIN_TOKEN, EDGE_PORT } from '../../playwright.config.ts';

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
      const violation = egressViolation(request.method(), url, request.postData());
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
  warnings: async ({ page }, use) => {
    const warnings: string[] = [];
    page.on('console', (m) => m.type() === 'warning' && m.text().startsWith('[vitrine]') && warnings.push(m.text()));
    await use(warnings);
  },
});
export { expect };

/** All rows of one object store of the site's Vitrine database, read in the page's origin. */
export function readStore<T>(page: Page, store: string, site = 'demo'): Promise<T[]> {
  return page.evaluate(
    ([name, storeName]) =>
      new Promise<T[]>((resolve, reject) => {
        const open = indexedDB.open(name!);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains(storeName!)) return resolve([]);
          const req = db.transaction(storeName!).objectStore(storeName!).getAll();
          req.onsuccess = () => {
            db.close();
            resolve(req.result as T[]);
          };
          req.onerror = () => reject(req.error);
        };
      }),
    [`vitrine:${site}`, store],
  );
}

/** The creative link rendered in a slot's shadow root. */
/** The creative's main link in a slot (a carousel's lead link), which carries its id in data-creative. */
export function creativeIn(page: Page, slot: string) {
  return page.locator(`[data-vitrine-slot="${slot}"] a[data-creative]`);
}

/** The open round as its site's admin sees it: status and contributor count, never a sum (those leave the round only noised, after it closes). */
export async function openRound(site = 'demo'): Promise<{ status: string; contributors: number }> {
  const r = await fetch(`${EDGE}/v1/admin/sites/${site}/rounds/current`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!r.ok) throw new Error(`round: ${r.status} ${await r.text()}`);
  return r.json();
}
