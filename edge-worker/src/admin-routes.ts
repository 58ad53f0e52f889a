/**
 * The admin API, one site per token: catalog, templates, creatives, models, and round results.
 * Called by the seed script, the trainer CLI and the dashboard; never by shoppers.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { ModelJsonSchema, modelVersion, weightsByteLength } from '../../protocol/model-artifact.ts';
import { UpsertCreativesSchema, UpsertProductsSchema, UpsertTemplatesSchema, describeIssues } from '../../protocol/wire.ts';
import { SiteSettingsSchema } from '../../protocol/site-settings.ts';
import type { SiteSettings } from '../../protocol/site-settings.ts';
import type {
  CatalogAnswer,
  DeletedAnswer,
  ModelsAnswer,
  ModelUploadAnswer,
  RetiredAnswer,
  ServingAnswer,
  SiteAnswer,
  UpsertAnswer,
} from '../../protocol/admin-answers.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { getModel, insertModel, listModels, previousServingModel, promoteModel, retireCandidate } from './model-store.ts';
import { partsFor, roundMechanisms } from '../../protocol/report-parts.ts';
import { expectNoBody, readJson } from './request-body.ts';
import { firstSegment, withRoundLength } from './round-schedule.ts';
import { forgetSite } from './site-cache.ts';
import { ledgerRows, looserSettings } from './privacy-ledger.ts';
import { budgetRunsOut } from '../../protocol/budget-pacing.ts';
import { getSite, settingsOf, upsertSite } from './site-store.ts';
import {
  creativesUsing,
  deleteCreative,
  deleteUnused,
  listCatalog,
  listTemplates,
  missingReferences,
  upsertCreatives,
  upsertProducts,
  upsertTemplates,
} from './catalog-store.ts';
import type { SiteRow } from './site-store.ts';

import { ADMIN_BODY_LIMIT, existingSite, existingSiteRow, requireAdmin } from './admin-site.ts';
import { adminRoundRoutes } from './admin-round-routes.ts';

export const adminRoutes = new Hono<{ Bindings: Env }>();

adminRoutes.use('/v1/admin/sites/:site', requireAdmin);
adminRoutes.use('/v1/admin/sites/:site/*', requireAdmin);
// A round's routes, under the same check (mounted here, so the check runs once a request).
adminRoutes.route('/', adminRoundRoutes);

/** The site's settings (what PUT set, with defaults filled in). */
adminRoutes.get('/v1/admin/sites/:site', async (c) => {
  const row = await existingSiteRow(c);
  return c.json<SiteAnswer>(row);
});

/** Products and creatives as uploaded, and the templates (the dashboard's catalog view). */
adminRoutes.get('/v1/admin/sites/:site/catalog', async (c) => {
  const site = await existingSite(c);
  const [catalog, templates] = await Promise.all([listCatalog(c.env.DB, site), listTemplates(c.env.DB, site)]);
  return c.json<CatalogAnswer>({ ...catalog, templates });
});

/** Every model of the site with its status: serving, candidate or retired. */
adminRoutes.get('/v1/admin/sites/:site/models', async (c) => {
  const site = await existingSite(c);
  return c.json<ModelsAnswer>({ models: await listModels(c.env.DB, site) });
});

/**
 * PUT replaces a site's settings: every field it leaves out goes back to its default (the
 * create-or-replace a deployment script wants). PATCH changes the fields it names and keeps the
 * rest (what a merchant changing one setting wants); a field set to null there goes back to its
 * default. Both go through the same rules: privacy settings only ever stricter within a period,
 * a budget that lasts its period, and a round length that changes with the next round, never the
 * open one.
 */
adminRoutes.put('/v1/admin/sites/:site', async (c) => {
  const settings = await readJson(c.req.raw, SiteSettingsSchema, ADMIN_BODY_LIMIT);
  return c.json<SiteAnswer>(await saveSettings(c.env.DB, c.req.param('site'), await getSite(c.env.DB, c.req.param('site')), settings));
});

adminRoutes.patch('/v1/admin/sites/:site', async (c) => {
  const existing = await getSite(c.env.DB, c.req.param('site'));
  if (!existing) throw new HttpError(404, 'unknown_site', `no site ${c.req.param('site')} yet: create it with PUT (name and allowedOrigins at least)`);
  const patch = await readJson(c.req.raw, v.record(v.string(), v.unknown()), ADMIN_BODY_LIMIT);
  const merged: Record<string, unknown> = { ...settingsOf(existing) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const parsed = v.safeParse(SiteSettingsSchema, merged);
  if (!parsed.success) throw new HttpError(422, 'invalid_body', describeIssues(parsed.issues));
  return c.json<SiteAnswer>(await saveSettings(c.env.DB, existing.id, existing, parsed.output));
});

async function saveSettings(db: D1Database, site: string, existing: SiteRow | null, settings: SiteSettings): Promise<SiteAnswer> {
  const now = Date.now();
  const looser = existing && looserSettings(existing, settings, await ledgerRows(db, existing.id), now);
  if (looser) throw new HttpError(409, 'privacy_only_stricter', looser);
  const runsOut = budgetRunsOut(settings, now, roundMechanisms(partsFor(settings.learning, existing?.atHeadScale ?? false)));
  if (runsOut) throw new HttpError(422, 'budget_runs_out', runsOut);
  // The open round keeps its length: a new one starts with the next round (round-schedule.ts).
  const schedule = existing ? withRoundLength(existing.roundSchedule, now, settings.roundSeconds) : [firstSegment(now, settings.roundSeconds)];
  await upsertSite(db, site, settings, schedule);
  forgetSite(site);
  // What was stored, as GET answers it.
  return (await getSite(db, site))!;
}

adminRoutes.put('/v1/admin/sites/:site/products', async (c) => {
  const site = await existingSite(c);
  const { products } = await readJson(c.req.raw, UpsertProductsSchema, ADMIN_BODY_LIMIT);
  await upsertProducts(c.env.DB, site, products);
  forgetSite(site);
  return c.json<UpsertAnswer>({ upserted: products.length });
});

adminRoutes.put('/v1/admin/sites/:site/templates', async (c) => {
  const site = await existingSite(c);
  const { templates } = await readJson(c.req.raw, UpsertTemplatesSchema, ADMIN_BODY_LIMIT);
  await upsertTemplates(c.env.DB, site, templates);
  forgetSite(site);
  return c.json<UpsertAnswer>({ upserted: templates.length });
});

adminRoutes.put('/v1/admin/sites/:site/creatives', async (c) => {
  const site = await existingSite(c);
  const { creatives } = await readJson(c.req.raw, UpsertCreativesSchema, ADMIN_BODY_LIMIT);
  const missing = await missingReferences(c.env.DB, site, creatives);
  if (missing.length > 0) throw new HttpError(422, 'invalid_body', missing.slice(0, 5).join('; '));
  await upsertCreatives(c.env.DB, site, creatives);
  forgetSite(site);
  return c.json<UpsertAnswer>({ upserted: creatives.length });
});

/** Deletes a creative: devices stop being shown it at their next config (a release lists it no more). */
adminRoutes.delete('/v1/admin/sites/:site/creatives/:id', async (c) => {
  const site = await existingSite(c);
  await expectNoBody(c.req.raw);
  const id = c.req.param('id');
  if (!(await deleteCreative(c.env.DB, site, id))) throw new HttpError(404, 'unknown_creative', `site ${site} has no creative ${id}`);
  forgetSite(site);
  return c.json<DeletedAnswer>({ deleted: id });
});

/** Deletes a template or a product; refused (409, with their ids) while creatives use it: delete or change those first. */
for (const [kind, table, column] of [
  ['templates', 'templates', 'templateId'],
  ['products', 'products', 'productId'],
] as const) {
  adminRoutes.delete(`/v1/admin/sites/:site/${kind}/:id`, async (c) => {
    const site = await existingSite(c);
    await expectNoBody(c.req.raw);
    const id = c.req.param('id');
    const using = await creativesUsing(c.env.DB, site, { [column]: id });
    if (using.length > 0)
      throw new HttpError(409, 'in_use', `${kind.slice(0, -1)} ${id} is used by creative(s) ${using.slice(0, 10).join(', ')}: delete or change them first`);
    if (!(await deleteUnused(c.env.DB, site, table, id)))
      throw new HttpError(404, `unknown_${kind.slice(0, -1)}`, `site ${site} has no ${kind.slice(0, -1)} ${id}`);
    forgetSite(site);
    return c.json<DeletedAnswer>({ deleted: id });
  });
}

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
  forgetSite(site);
  return c.json<ModelUploadAnswer>({ version, status: 'candidate', created: created === 'created' }, created === 'created' ? 201 : 200);
});

adminRoutes.post('/v1/admin/sites/:site/models/:version/promote', async (c) => {
  const site = await existingSite(c);
  await expectNoBody(c.req.raw);
  const version = c.req.param('version');
  const model = await getModel(c.env.DB, site, version);
  if (!model) throw new HttpError(404, 'unknown_model', `site ${site} has no model ${version}`);
  await promoteModel(c.env.DB, site, version);
  forgetSite(site);
  return c.json<ServingAnswer>({ version, status: 'serving' });
});

/**
 * Ends a candidate's evaluation: the gate (`promote --auto`) keeps only its leading candidate
 * scored beside the newest, so the leader's interval keeps narrowing instead of being pushed out
 * of the two slots devices score (MAX_CANDIDATE_MODELS) by each new fit. Retiring twice answers
 * the same (a retried call); the serving model is replaced by promote or rollback, not retired.
 */
adminRoutes.post('/v1/admin/sites/:site/models/:version/retire', async (c) => {
  const site = await existingSite(c);
  await expectNoBody(c.req.raw);
  const version = c.req.param('version');
  const was = await retireCandidate(c.env.DB, site, version);
  forgetSite(site);
  if (!was) throw new HttpError(404, 'unknown_model', `site ${site} has no model ${version}`);
  if (was === 'serving') throw new HttpError(409, 'model_serving', `model ${version} serves ${site}: promote another model or roll back instead`);
  return c.json<RetiredAnswer>({ version, status: 'retired' });
});

/** One command back: the previously serving model serves again (the current one is retired). */
adminRoutes.post('/v1/admin/sites/:site/models/rollback', async (c) => {
  const site = await existingSite(c);
  await expectNoBody(c.req.raw);
  const previous = await previousServingModel(c.env.DB, site);
  if (!previous) throw new HttpError(409, 'nothing_to_roll_back', `site ${site} has no earlier serving model to return to`);
  await promoteModel(c.env.DB, site, previous);
  forgetSite(site);
  return c.json<ServingAnswer>({ version: previous, status: 'serving' });
});
