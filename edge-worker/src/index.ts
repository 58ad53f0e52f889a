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

/** Known paths with a method they do not take: 405, not 404. */
const KNOWN_PATHS = [/^\/v1\/health$/, /^\/v1\/vitrine\.js$/, /^\/v1\/chunks\/[^/]+$/, /^\/v1\/sites\/[^/]+\/(config|reports|tokens|rounds\/[^/]+\/token-key)$/, /^\/v1\/models\/[^/]+\/[^/]+$/, /^\/v1\/admin\/sites\/[^/]+(\/(products|templates|creatives|models(\/[^/]+\/(promote|retire)|\/rollback)?|rounds\/[^/]+(\/release)?|privacy))?$/];

app.notFound((c) => {
  const known = KNOWN_PATHS.some((p) => p.test(c.req.path));
  const body: ErrorBody = known
    ? { error: 'method_not_allowed', detail: `${c.req.method} is not supported on ${c.req.path}` }
    : { error: 'not_found', detail: `no route ${c.req.path}` };
  return c.json(body, known ? 405 : 404);
});

app.onError((err, c) => {
  if (err instanceof HttpError) {
    const body: ErrorBody = { error: err.code, detail: err.detail };
    return c.json(body, err.status);
  }
  // Unknown failures are logged with the route only (never a body or client address) and hidden.
  console.error(`unhandled error on ${c.req.method} ${c.req.routePath}:`, err);
  const body: ErrorBody = { error: 'internal', detail: 'unexpected failure; it has been logged' };
  return c.json(body, 500);
});

export default app satisfies ExportedHandler<Env>;
