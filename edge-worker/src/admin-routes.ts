/**
 * The admin API, one site per token: catalog, templates, creatives, models, and round results.
 * Called by the seed script, the trainer CLI and (later) the dashboard; never by shoppers.
 */
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { ModelJsonSchema, modelVersion, weightsByteLength } from '../../protocol/model-artifact.ts';
import { SITE_ID, SiteSettingsSchema, UpsertCreativesSchema, UpsertProductsSchema, UpsertTemplatesSchema, describeIssues } from '../../protocol/wire.ts';
import { requireSiteAdmin } from './admin-auth.ts';
import { enforceRateLimit } from './client-key.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { getModel, insertModel, previousServingModel, promoteModel } from './model-store.ts';
import { expectNoBody, readJson } from './request-body.ts';
import { currentRound, roundAggregator } from './rounds.ts';
import { getSite, missingReferences, upsertCreatives, upsertProducts, upsertSite, upsertTemplates } from './site-store.ts';
import type { SiteRow } from './site-store.ts';

type AppContext = Context<{ Bindings: Env }>;

const ADMIN_BODY_LIMIT = 4 * 1024 * 1024;

export const adminRoutes = new Hono<{ Bindings: Env }>();

/** Every admin route: a valid site id, then the site's own token. */
const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const site = c.req.param('site') ?? '';
  if (!v.is(SITE_ID, site)) throw new HttpError(400, 'invalid_site', 'a site id is 1-63 lowercase letters, digits or dashes');
  // Before the token check, so guessing tokens is as slow as anything else.
  await enforceRateLimit(c.env, 'ADMIN_LIMITER', c.req.raw, `admin:${site}`, 'admin requests');
  await requireSiteAdmin(c.req.raw, c.env.ADMIN_TOKENS, site);
  await next();
};
adminRoutes.use('/v1/admin/sites/:site', requireAdmin);
adminRoutes.use('/v1/admin/sites/:site/*', requireAdmin);

async function existingSiteRow(c: AppContext): Promise<SiteRow> {
  const site = c.req.param('site')!;
  const row = await getSite(c.env.DB, site);
  if (!row) throw new HttpError(404, 'unknown_site', `create site ${site} first: PUT /v1/admin/sites/${site}`);
  return row;
}

async function existingSite(c: AppContext): Promise<string> {
  return (await existingSiteRow(c)).id;
}

adminRoutes.put('/v1/admin/sites/:site', async (c) => {
  const settings = await readJson(c.req.raw, SiteSettingsSchema, ADMIN_BODY_LIMIT);
  await upsertSite(c.env.DB, c.req.param('site'), settings);
  return c.json({ site: c.req.param('site'), ...settings });
});

adminRoutes.put('/v1/admin/sites/:site/products', async (c) => {
  const site = await existingSite(c);
  const { products } = await readJson(c.req.raw, UpsertProductsSchema, ADMIN_BODY_LIMIT);
  await upsertProducts(c.env.DB, site, products);
  return c.json({ upserted: products.length });
});

adminRoutes.put('/v1/admin/sites/:site/templates', async (c) => {
  const site = await existingSite(c);
  const { templates } = await readJson(c.req.raw, UpsertTemplatesSchema, ADMIN_BODY_LIMIT);
  await upsertTemplates(c.env.DB, site, templates);
  return c.json({ upserted: templates.length });
});

adminRoutes.put('/v1/admin/sites/:site/creatives', async (c) => {
  const site = await existingSite(c);
  const { creatives } = await readJson(c.req.raw, UpsertCreativesSchema, ADMIN_BODY_LIMIT);
  const missing = await missingReferences(c.env.DB, site, creatives);
  if (missing.length > 0) throw new HttpError(422, 'invalid_body', missing.slice(0, 5).join('; '));
  await upsertCreatives(c.env.DB, site, creatives);
  return c.json({ upserted: creatives.length });
});

const ModelUploadSchema = v.strictObject({
  model: v.unknown(),
  /** weights.bin, base64. */
  weights: v.pipe(v.string(), v.maxLength(ADMIN_BODY_LIMIT)),
});

function decodeBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    throw new HttpError(422, 'invalid_body', 'weights: not base64');
  }
}

/** Uploads a model as a candidate. Its version is computed here from its content. */
adminRoutes.post('/v1/admin/sites/:site/models', async (c) => {
  const site = await existingSite(c);
  const upload = await readJson(c.req.raw, ModelUploadSchema, ADMIN_BODY_LIMIT);
  const parsed = v.safeParse(ModelJsonSchema, upload.model);
  if (!parsed.success) throw new HttpError(422, 'invalid_model', describeIssues(parsed.issues));
  const weights = decodeBase64(upload.weights);
  const expected = weightsByteLength(parsed.output.topology);
  if (weights.byteLength !== expected) {
    throw new HttpError(422, 'invalid_model', `weights: ${weights.byteLength} bytes, the topology needs ${expected}`);
  }
  const modelJson = JSON.stringify(parsed.output);
  const version = await modelVersion(modelJson, weights);
  const created = await insertModel(c.env.DB, { version, site, specHash: parsed.output.specHash, modelJson, weights });
  return c.json({ version, status: 'candidate', created: created === 'created' }, created === 'created' ? 201 : 200);
});

adminRoutes.post('/v1/admin/sites/:site/models/:version/promote', async (c) => {
  const site = await existingSite(c);
  await expectNoBody(c.req.raw);
  const version = c.req.param('version');
  const model = await getModel(c.env.DB, site, version);
  if (!model) throw new HttpError(404, 'unknown_model', `site ${site} has no model ${version}`);
  await promoteModel(c.env.DB, site, version);
  return c.json({ version, status: 'serving' });
});

/** One command back: the previously serving model serves again (the current one is retired). */
adminRoutes.post('/v1/admin/sites/:site/models/rollback', async (c) => {
  const site = await existingSite(c);
  await expectNoBody(c.req.raw);
  const previous = await previousServingModel(c.env.DB, site);
  if (!previous) throw new HttpError(409, 'nothing_to_roll_back', `site ${site} has no earlier serving model to return to`);
  await promoteModel(c.env.DB, site, previous);
  return c.json({ version: previous, status: 'serving' });
});

function roundParam(c: AppContext, roundSeconds: number): number {
  const param = c.req.param('round');
  const round = param === 'current' ? currentRound(Date.now(), roundSeconds).id : Number(param);
  if (!Number.isSafeInteger(round) || round < 0) throw new HttpError(400, 'invalid_round', 'a round is "current" or a non-negative integer');
  return round;
}

/**
 * A round's released result: its sums once it has closed with at least minCohort
 * contributors; otherwise its status (open, or below the cohort) and how many contributed.
 */
adminRoutes.get('/v1/admin/sites/:site/rounds/:round', async (c) => {
  const settings = await existingSiteRow(c);
  const site = settings.id;
  const round = roundParam(c, settings.roundSeconds);
  const aggregator = roundAggregator(c.env.ROUNDS, site, round);
  const release = await aggregator.release({ deadline: (round + 1) * settings.roundSeconds * 1000, minCohort: settings.minCohort });
  return c.json({ site, round, ...release });
});

/** Per-creative report totals of a round ("current" or a round id), with its contributor count. */
adminRoutes.get('/v1/admin/sites/:site/rounds/:round/totals', async (c) => {
  const settings = await existingSiteRow(c);
  const site = settings.id;
  const round = roundParam(c, settings.roundSeconds);
  const aggregator = roundAggregator(c.env.ROUNDS, site, round);
  const summary = await aggregator.summary();
  return c.json({ site, round, ...summary });
});
