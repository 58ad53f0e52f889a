/**
 * The edge's HTTP application: public routes for devices, the admin API for merchants, 404/405
 * answers derived from the routes, and one error handler for everything. `index.ts` deploys it
 * as it is; `test-worker.ts` (tests and local runs only) adds the test controls.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { ErrorBody } from '../../protocol/wire.ts';
import { adminRoutes } from './admin-routes.ts';
import { assetRoutes } from './asset-routes.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { publicRoutes } from './public-routes.ts';

export type EdgeApp = Hono<{ Bindings: Env }>;

export function createApp(extraRoutes: readonly EdgeApp[] = []): EdgeApp {
  const app: EdgeApp = new Hono<{ Bindings: Env }>();
  app.route('/', assetRoutes);
  app.route('/', publicRoutes);
  app.route('/', adminRoutes);
  for (const routes of extraRoutes) app.route('/', routes);

  /**
   * Paths some route takes, derived from the routers (so a new route never answers 404 to the
   * wrong method): a known path asked with another method is 405, anything else 404. Middleware
   * (method ALL) and the CORS preflight's catch-all are not routes of their own.
   */
  const knownPaths = [...new Set(app.routes.filter((r) => r.method !== 'ALL' && r.method !== 'OPTIONS').map((r) => r.path))].map(
    (route) =>
      new RegExp(
        `^${route
          .replace(/[.]/g, '\\.')
          .replace(/:[^/]+/g, '[^/]+')
          .replace(/\*/g, '.*')}$`,
      ),
  );

  app.notFound((c) => {
    const known = knownPaths.some((p) => p.test(c.req.path));
    const body: ErrorBody = known
      ? { error: 'method_not_allowed', detail: `${c.req.method} is not supported on ${c.req.path}` }
      : { error: 'not_found', detail: `no route ${c.req.path}` };
    readableByPage(c);
    return c.json(body, known ? 405 : 404);
  });

  app.onError((err, c) => {
    if (err instanceof HttpError) {
      const body: ErrorBody = { ...err.extra, error: err.code, detail: err.detail };
      readableByPage(c);
      return c.json(body, err.status);
    }
    // Unknown failures are logged with the route only (never a body or client address) and hidden.
    console.error(`unhandled error on ${c.req.method} ${c.req.routePath}:`, err);
    const body: ErrorBody = { error: 'internal', detail: 'unexpected failure; it has been logged' };
    return c.json(body, 500);
  });
  return app;
}

/**
 * A device route's error answer is readable by the page that asked, whatever its origin: without
 * CORS headers a browser shows the widget only "Failed to fetch", and a merchant cannot see that
 * their origin is missing from allowedOrigins or their site id is wrong. An error body says
 * nothing about anyone (and no credentials are ever allowed), so reflecting the origin is safe;
 * successful answers stay limited to the site's origins (public-routes.ts allowOrigin).
 */
function readableByPage(c: Context): void {
  const origin = c.req.header('origin');
  if (!origin || !c.req.path.startsWith('/v1/sites/')) return;
  c.header('access-control-allow-origin', origin);
  c.header('vary', 'Origin');
}
