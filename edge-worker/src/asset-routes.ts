/**
 * Built files the edge serves: the widget (script, chunks, its types) to any storefront, and the
 * merchant dashboard with its own strict CSP; and a liveness route. Nothing here touches storage
 * or carries anything about anyone.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';

type AppContext = Context<{ Bindings: Env }>;

/** Public artifacts (code, models) carry nothing about anyone: any origin may load them. */
export const ANY_ORIGIN = { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' };
export const IMMUTABLE = 'public, max-age=31536000, immutable';

export const assetRoutes = new Hono<{ Bindings: Env }>();

/** Liveness for monitors (and the ingestion benchmark's no-op baseline): touches no storage. */
assetRoutes.get('/v1/health', (c) => c.json({ ok: true }));

/** The widget bundle and its chunks, built into dist/edge-assets by `npm run build`. */
assetRoutes.get('/v1/vitrine.js', async (c) => serveAsset(c, 'public, max-age=300'));
assetRoutes.get('/v1/chunks/:file', async (c) => serveAsset(c, IMMUTABLE));
// The page API's types (widget/vitrine.d.ts) for a TypeScript storefront; `.ts` would read as video.
assetRoutes.get('/v1/vitrine.d.ts', async (c) => {
  const response = await serveAsset(c, 'public, max-age=300');
  response.headers.set('content-type', 'text/plain; charset=utf-8');
  return response;
});

/**
 * The merchant dashboard (dashboard/, built into dist/edge-assets/v1/admin). The page holds no
 * data: everything it shows comes from the admin API with the token the merchant signs in with.
 * Its own strict CSP: only its own scripts and styles, API calls to this origin, never framed.
 */
const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
assetRoutes.get('/v1/admin', (c) => c.redirect('/v1/admin/', 301));
assetRoutes.get('/v1/admin/', async (c) => dashboardAsset(c, '/v1/admin/index.html', 'no-cache'));
assetRoutes.get('/v1/admin/assets/:file', async (c) => dashboardAsset(c, c.req.path, IMMUTABLE));

function dashboardAsset(c: AppContext, assetPath: string, cacheControl: string): Promise<Response> {
  return assetResponse(c, assetPath, {
    'cache-control': cacheControl,
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
}

/** A built file from dist/edge-assets (404 with a hint when the build is missing), with `headers` set on it. */
async function assetResponse(c: AppContext, assetPath: string, headers: Record<string, string>): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(new Request(new URL(assetPath, c.req.url)));
  if (asset.status === 404) throw new HttpError(404, 'not_found', `no file ${c.req.path}; run npm run build`);
  const response = new Response(asset.body, asset);
  for (const [k, val] of Object.entries(headers)) response.headers.set(k, val);
  return response;
}

function serveAsset(c: AppContext, cacheControl: string): Promise<Response> {
  return assetResponse(c, c.req.path, { ...ANY_ORIGIN, 'cache-control': cacheControl });
}
