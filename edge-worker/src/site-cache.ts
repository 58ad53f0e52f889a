/**
 * Values this isolate read from D1 a few seconds ago, by key: a device report then costs no D1
 * read (ingestion went from 198 to 456 reports/s with the site row kept, `npm run bench`).
 * Changes made through the admin API reach the public routes of other isolates within
 * ADMIN_CHANGE_DELAY_MS; the isolate that made the change forgets its copy at once.
 * Misses (null) are not kept, so a site is usable as soon as it is created.
 */
import { ADMIN_CHANGE_DELAY_MS } from '../../protocol/wire.ts';
import { reportModels } from './model-store.ts';
import { getSite } from './site-store.ts';

interface IsolateCache<T> {
  read(db: D1Database, key: string): Promise<T | null>;
  forget(key: string): void;
}

function isolateCache<T>(load: (db: D1Database, key: string) => Promise<T | null>): IsolateCache<T> {
  const entries = new Map<string, { value: T; until: number }>();
  return {
    async read(db, key) {
      const now = Date.now();
      const cached = entries.get(key);
      if (cached && cached.until > now) return cached.value;
      const value = await load(db, key);
      if (value === null) return null;
      if (entries.size > 1000) entries.clear();
      entries.set(key, { value, until: now + ADMIN_CHANGE_DELAY_MS });
      return value;
    },
    forget(key) {
      entries.delete(key);
    },
  };
}

const sites = isolateCache(getSite);
/** The serving and candidate models, which reports' model parts are checked against. */
const models = isolateCache(reportModels);

export const cachedSite = (db: D1Database, site: string) => sites.read(db, site);
export const cachedReportModels = (db: D1Database, site: string) => models.read(db, site);

/** After a change to the site's settings or models in this isolate: its next request reads them anew. */
export function forgetSite(site: string): void {
  sites.forget(site);
  models.forget(site);
}
