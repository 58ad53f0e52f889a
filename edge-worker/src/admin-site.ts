/** What every admin route starts with: a valid site id and the site's own token, then the site itself. */
import type { Context, MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { SITE_ID } from '../../protocol/wire.ts';
import { requireSiteAdminCounted } from './admin-auth.ts';
import { enforceRateLimit } from './client-key.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { getSite } from './site-store.ts';
import type { SiteRow } from './site-store.ts';

export type AppContext = Context<{ Bindings: Env }>;

/** The largest admin request body (a catalog or creatives upload). */
export const ADMIN_BODY_LIMIT = 4 * 1024 * 1024;

/** Every admin route: a valid site id, then the site's own token. */
export const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const site = c.req.param('site') ?? '';
  if (!v.is(SITE_ID, site)) throw new HttpError(400, 'invalid_site', 'a site id is 1-63 lowercase letters, digits or dashes');
  // Before the token check, so guessing tokens is as slow as anything else.
  await enforceRateLimit(c.env, 'ADMIN_LIMITER', c.req.raw, `admin:${site}`, 'admin requests');
  await requireSiteAdminCounted(c.env.DB, c.req.raw, c.env.ADMIN_TOKENS, site);
  await next();
};
export async function existingSiteRow(c: AppContext): Promise<SiteRow> {
  const site = c.req.param('site')!;
  const row = await getSite(c.env.DB, site);
  if (!row) throw new HttpError(404, 'unknown_site', `create site ${site} first: PUT /v1/admin/sites/${site}`);
  return row;
}

export async function existingSite(c: AppContext): Promise<string> {
  return (await existingSiteRow(c)).id;
}
