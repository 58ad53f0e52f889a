/**
 * The Vitrine edge worker: public routes for devices, the admin API for merchants, and the
 * RoundAggregator Durable Object class. One error handler for everything.
 */
import { Hono } from 'hono';
import type { ErrorBody } from '../../protocol/wire.ts';
import { adminRoutes } from './admin-routes.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { publicRoutes } from './public-routes.ts';

export { RoundAggregator } from './round-aggregator.ts';

const app = new Hono<{ Bindings: Env }>();

app.route('/', publicRoutes);
app.route('/', adminRoutes);

/**
 * Paths some route takes, derived from the routers (so a new route never answers 404 to the
 * wrong method): a known path asked with another method is 405, anything else 404. Middleware
 * (method ALL) and the CORS preflight's catch-all are not routes of their own.
 */
const KNOWN_PATHS = [...new Set(app.routes.filter((r) => r.method !== 'ALL' && r.method !== 'OPTIONS').map((r) => r.path))].map(
  (route) =>
    new RegExp(
      `^${route
        .replace(/[.]/g, '\\.')
        .replace(/:[^/]+/g, '[^/]+')
        .replace(/\*/g, '.*')}$`,
    ),
);

app.notFound((c) => {
  const known = KNOWN_PATHS.some((p) => p.test(c.req.path));
  const body: ErrorBody = known
    ? { error: 'method_not_allowed', detail: `${c.req.method} is not supported on ${c.req.path}` }
    : { error: 'not_found', detail: `no route ${c.req.path}` };
  return c.json(body, known ? 405 : 404);
});

app.onError((err, c) => {
  if (err instanceof HttpError) {
    const body: ErrorBody = { ...err.extra, error: err.code, detail: err.detail };
    return c.json(body, err.status);
  }
  // Unknown failures are logged with the route only (never a body or client address) and hidden.
  console.error(`unhandled error on ${c.req.method} ${c.req.routePath}:`, err);
  const body: ErrorBody = { error: 'internal', detail: 'unexpected failure; it has been logged' };
  return c.json(body, 500);
});

export default app satisfies ExportedHandler<Env>;
