/**
 * The admin API, one site per token: catalog, templates, creatives, models, and round results.
 * Called by the seed script, the trainer CLI and the dashboard; never by shoppers.
 */
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import * as v from 'valibot';
import { ModelJsonSchema, modelVersion, weightsByteLength } from '../../protocol/model-artifact.ts';
import { SITE_ID, SiteSettingsSchema, UpsertCreativesSchema, UpsertProductsSchema, UpsertTemplatesSchema, describeIssues } from '../../protocol/wire.ts';
import type { SiteSettings } from '../../protocol/wire.ts';
import type {
  CatalogAnswer,
  Ledger,
  ModelsAnswer,
  ModelUploadAnswer,
  RetiredAnswer,
  RoundAnswer,
  RoundsAnswer,
  ServingAnswer,
  SiteAnswer,
  UpsertAnswer,
} from '../../protocol/admin-answers.ts';
import { requireSiteAdminCounted } from './admin-auth.ts';
import { enforceRateLimit } from './client-key.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { getModel, insertModel, listModels, previousServingModel, promoteModel, reportModels, retireCandidate } from './model-store.ts';
import type { RoundTerms } from './round-contract.ts';
import type { ReleaseShape } from './round-sums.ts';
import { COUNT_MECHANISMS, PRIVACY_DELTA } from '../../protocol/privacy.ts';
import { partsFor, roundMechanisms } from '../../protocol/report-parts.ts';
import { UNIFORM_POLICY } from '../../protocol/off-policy.ts';
import { expectNoBody, readJson } from './request-body.ts';
import { existingRound, openRound, roundAggregator, roundTerms } from './rounds.ts';
import { firstSegment, withRoundLength } from './round-schedule.ts';
import { forgetSite } from './site-cache.ts';
import { budgetOutlook, ledgerRows, looserSettings, recordContributors, reserveRelease, spent } from './privacy-ledger.ts';
import { budgetRunsOut } from '../../protocol/budget-pacing.ts';
import {
  getSite,
  listCatalog,
  listCreativeIds,
  listTemplates,
  missingReferences,
  recordLastContributors,
  settingsOf,
  upsertCreatives,
  upsertProducts,
  upsertSite,
  upsertTemplates,
} from './site-store.ts';
import type { SiteRow } from './site-store.ts';
import { headStatsLength } from '../../protocol/head-statistics.ts';

type AppContext = Context<{ Bindings: Env }>;

const ADMIN_BODY_LIMIT = 4 * 1024 * 1024;

export const adminRoutes = new Hono<{ Bindings: Env }>();

/** Every admin route: a valid site id, then the site's own token. */
const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const site = c.req.param('site') ?? '';
  if (!v.is(SITE_ID, site)) throw new HttpError(400, 'invalid_site', 'a site id is 1-63 lowercase letters, digits or dashes');
  // Before the token check, so guessing tokens is as slow as anything else.
  await enforceRateLimit(c.env, 'ADMIN_LIMITER', c.req.raw, `admin:${site}`, 'admin requests');
  await requireSiteAdminCounted(c.env.DB, c.req.raw, c.env.ADMIN_TOKENS, site);
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
 * The recent rounds at a glance, for the dashboard: those of the last `last` closed rounds
 * (default 24, at most 200) that were counted, with their status and noised contributor count,
 * and the noised release of those already released. Reading this never counts or releases a
 * round (so it spends no privacy budget): that is the trainer's pull, POST .../rounds/{round}/release.
 */
adminRoutes.get('/v1/admin/sites/:site/rounds', async (c) => {
  const settings = await existingSiteRow(c);
  const last = Number(c.req.query('last') ?? 24);
  if (!Number.isInteger(last) || last < 1 || last > 200) throw new HttpError(400, 'invalid_query', 'last is a whole number from 1 to 200');
  const current = openRound(settings).id;
  // Closed rounds only, and none from before the site's first round (nobody could report in them).
  const first = settings.roundSchedule[0]!.fromRound;
  const ids = Array.from({ length: Math.max(0, Math.min(last, current - first)) }, (_, i) => current - 1 - i);
  const rounds = await Promise.all(
    ids.map(async (round) => {
      const status = await roundAggregator(c.env.ROUNDS, settings.id, round).status(roundTerms(settings, round));
      return { round, ...status };
    }),
  );
  return c.json<RoundsAnswer>({
    site: settings.id,
    current,
    minCohort: settings.minCohort,
    rounds: rounds.filter((r) => r.status !== 'open' && r.status !== 'closed'),
  });
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
  const runsOut = budgetRunsOut(settings, now, roundMechanisms(partsFor(settings.learning, existing?.lastContributors ?? null)));
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

function roundParam(c: AppContext, site: SiteRow): number {
  const param = c.req.param('round');
  const round = param === 'current' ? openRound(site).id : Number(param);
  if (!Number.isSafeInteger(round) || round < 0) throw new HttpError(400, 'invalid_round', 'a round is "current" or a non-negative integer');
  existingRound(site, round);
  return round;
}

/**
 * A round: while open or not yet counted, its status; once counted, its noised contributor
 * count; once released, its noised sums. Reading never counts or releases (so it never spends
 * privacy budget): that is POST .../release.
 */
adminRoutes.get('/v1/admin/sites/:site/rounds/:round', async (c) => {
  const settings = await existingSiteRow(c);
  const round = roundParam(c, settings);
  const status = await roundAggregator(c.env.ROUNDS, settings.id, round).status(roundTerms(settings, round));
  return c.json<RoundAnswer>({ site: settings.id, round, ...status });
});

/**
 * Releases a closed round, in two steps each charged to the ledger before its noise is drawn
 * (refused with 403 when that would pass the period's budget): first the round is counted (its
 * noised count vector, a quarter of a mechanism, protocol/privacy.ts COUNT_MECHANISMS), then,
 * if that count reaches minCohort, its sums are released (the rest). The object keeps both:
 * releasing again returns the same and spends nothing. A round counted below the cohort answers
 * its status (it never will be released); an open one 409.
 */
adminRoutes.post('/v1/admin/sites/:site/rounds/:round/release', async (c) => {
  const settings = await existingSiteRow(c);
  const site = settings.id;
  const round = roundParam(c, settings);
  await expectNoBody(c.req.raw);
  const aggregator = roundAggregator(c.env.ROUNDS, site, round);
  const fallback = roundTerms(settings, round);
  let status = await aggregator.status(fallback);
  if (status.status === 'open')
    throw new HttpError(409, 'round_open', `round ${round} is still open (it closes at ${new Date(status.deadline).toISOString()})`);
  // With a serving model every part the site collects now is released (zeros plus noise where
  // none was sent) and charged; a part it does not collect is neither.
  const serving = await reportModels(c.env.DB, site);
  const shape: ReleaseShape | null = serving && {
    model: serving.version,
    parts: settings.parts,
    headLength: headStatsLength(serving.dim),
    towerParameters: serving.towerParameters,
    opeModels: [serving.version, ...serving.candidates, UNIFORM_POLICY],
    offsetKeys: serving.offsetKeys,
  };
  if (status.status === 'closed') {
    // The budget check and the ledger's row in one step (privacy-ledger.ts), before the count's noise is drawn.
    await reserveRelease(c.env.DB, settings, {
      round,
      start: roundStart(status, fallback),
      mechanisms: COUNT_MECHANISMS,
      noiseMultiplier: status.noiseMultiplier,
      contributors: 0,
    });
    status = await aggregator.count(site, round, fallback, shape?.model ?? null);
    if ('contributors' in status) await recordContributors(c.env.DB, site, round, status.contributors);
  }
  if (status.status !== 'releasable') return c.json<RoundAnswer>({ site, round, ...status });
  const mechanisms = shape ? roundMechanisms(shape.parts) : 1 + COUNT_MECHANISMS;
  await reserveRelease(c.env.DB, settings, {
    round,
    start: roundStart(status, fallback),
    mechanisms,
    noiseMultiplier: status.noiseMultiplier,
    contributors: status.contributors,
  });
  const release = await aggregator.releaseNoised(site, round, await listCreativeIds(c.env.DB, site), shape);
  if (!release) throw new HttpError(409, 'not_releasable', `round ${round} cannot be released`);
  if (Math.abs(release.mechanisms - mechanisms) > 1e-9)
    throw new Error(`round ${round} released ${release.mechanisms} mechanisms, the ledger charged ${mechanisms}`);
  // The site's scale, public (a noised count): which parts its next rounds collect (report-parts.ts "auto").
  await recordLastContributors(c.env.DB, site, status.contributors);
  forgetSite(site);
  return c.json<RoundAnswer>({
    site,
    round,
    contributors: status.contributors,
    minCohort: status.minCohort,
    start: status.start,
    deadline: status.deadline,
    status: 'released',
    release,
  });
});

/** When a round began: its object's stored start, or for an object older than stored starts, its window in the schedule. */
function roundStart(status: { start: number | null }, fallback: RoundTerms): number {
  return status.start ?? fallback.start!;
}

/**
 * The site's privacy ledger: what the last period (a window of budgetPeriodDays up to now) has
 * spent and when its first spend leaves it, what every charged round together costs, the noise
 * every round gets and what the budget allows from now (rounds left, and the day it would run
 * out at one release a round, if it would within the next period), and every charged round.
 */
adminRoutes.get('/v1/admin/sites/:site/privacy', async (c) => {
  const settings = await existingSiteRow(c);
  const rows = await ledgerRows(c.env.DB, settings.id);
  const now = Date.now();
  const outlook = budgetOutlook(settings, rows, openRound(settings, now).start, now);
  const iso = (ms: number) => new Date(ms).toISOString();
  return c.json<Ledger>({
    site: settings.id,
    delta: PRIVACY_DELTA,
    budget: settings.epsilonBudget,
    periodDays: settings.budgetPeriodDays,
    window: { from: iso(outlook.windowFrom), to: iso(now) },
    epsilon: outlook.epsilon,
    freesAt: outlook.freesAt === null ? null : iso(outlook.freesAt),
    epsilonAllTime: spent(rows),
    pacing: {
      noiseMultiplier: settings.pacing.noiseMultiplier,
      paced: settings.pacing.paced,
      roundsPerPeriod: settings.pacing.roundsPerPeriod,
      epsilonPerRound: settings.pacing.epsilonPerRound,
      roundsLeft: outlook.roundsLeft,
      runsOutAt: outlook.runsOutAt === null ? null : iso(outlook.runsOutAt),
    },
    rounds: rows,
  });
});
