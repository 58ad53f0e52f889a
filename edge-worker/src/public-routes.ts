/**
 * Routes devices call: a site's config, model artifacts, report tokens and reports (the widget's
 * files and the dashboard's are asset-routes.ts).
 * Everything here answers browsers on merchants' storefronts, so CORS is decided per site.
 */
import { countVector } from '../../protocol/outcome-counts.ts';
import { Hono } from 'hono';
import type { Context } from 'hono';
import * as v from 'valibot';
import { MAX_CANDIDATE_MODELS, MAX_REPORT_BYTES, ReportSchema, SITE_ID } from '../../protocol/wire.ts';
import type { Report } from '../../protocol/wire.ts';
import type { Candidate, SiteConfig } from '../../protocol/wire.ts';
import { l2Norm, withinBound } from '../../protocol/privacy.ts';
import { clientKey, enforceRateLimit } from './client-key.ts';
import {
  fromBase64Url,
  REPORT_TOKEN_TYPE,
  reportChallenge,
  TOKEN_REQUEST_BYTES,
  TOKEN_REQUEST_TYPE,
  TOKEN_RESPONSE_TYPE,
  tokenOfAuthorization,
  tokenRequestPath,
  TokenRequestSchema,
  toBase64Url,
} from '../../protocol/report-token.ts';
import type { TokenKeyAnswer } from '../../protocol/report-token.ts';
import { roundTokenVerifier } from './report-tokens.ts';
import type { RoundTokenVerifier } from './report-tokens.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { candidateModels, modelArtifact, servingModel } from './model-store.ts';
import { cachedSite } from './site-cache.ts';
import { MODEL_PARTS } from '../../protocol/report-parts.ts';
import type { RoundTerms } from './round-contract.ts';
import { readBytes, readJson } from './request-body.ts';
import { openRound, roundAggregator, roundShard, roundTerms, shardOf } from './rounds.ts';
import { sitePrivacy } from './site-store.ts';
import { listCandidates, listTemplates } from './catalog-store.ts';
import type { SiteRow } from './site-store.ts';
import { checkedModelParts } from './report-model-parts.ts';

type AppContext = Context<{ Bindings: Env }>;

import { ANY_ORIGIN, IMMUTABLE } from './asset-routes.ts';

async function loadSite(c: AppContext): Promise<SiteRow> {
  const id = c.req.param('site') ?? '';
  if (!v.is(SITE_ID, id)) throw new HttpError(400, 'invalid_site', 'a site id is 1-63 lowercase letters, digits or dashes');
  const site = await cachedSite(c.env.DB, id);
  if (!site) throw new HttpError(404, 'unknown_site', `no site ${id} is configured on this edge`);
  return site;
}

/** Browsers send Origin on cross-origin requests: only the site's own storefronts may call. */
function allowOrigin(c: AppContext, site: SiteRow): void {
  const origin = c.req.header('origin');
  if (!origin) return;
  if (!site.allowedOrigins.includes(origin)) {
    throw new HttpError(403, 'origin_not_allowed', `${origin} is not in the allowed origins of site ${site.id}`);
  }
  c.header('access-control-allow-origin', origin);
  c.header('vary', 'Origin');
}

async function etagOf(body: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)));
  return `"${Array.from(hash.slice(0, 12), (b) => b.toString(16).padStart(2, '0')).join('')}"`;
}

export const publicRoutes = new Hono<{ Bindings: Env }>();

publicRoutes.get('/v1/sites/:site/config', async (c) => {
  await enforceRateLimit(c.env, 'READ_LIMITER', c.req.raw, `read:${c.req.param('site')}`, 'config reads');
  const site = await loadSite(c);
  allowOrigin(c, site);
  const [templates, candidates, model, evaluated] = await Promise.all([
    listTemplates(c.env.DB, site.id),
    listCandidates(c.env.DB, site.id),
    servingModel(c.env.DB, site.id),
    candidateModels(c.env.DB, site.id, MAX_CANDIDATE_MODELS),
  ]);
  const manifest = (m: { version: string; specHash: string }) => ({ version: m.version, specHash: m.specHash, url: `/v1/models/${m.version}/model.json` });
  const round = openRound(site);
  const config: SiteConfig = {
    site: site.id,
    reportSchema: 1,
    round: { id: round.id, deadline: new Date(round.deadline).toISOString(), minCohort: site.minCohort },
    explorationFloor: site.explorationFloor,
    frequencyCapPerDay: site.frequencyCapPerDay,
    excludedCategories: site.excludedCategories,
    refreshSeconds: site.configRefreshSeconds,
    attributionDays: site.attributionDays,
    currency: site.currency,
    holdoutShare: site.holdoutShare,
    privacy: sitePrivacy(site),
    // Which parts a report carries this round: the site's scale decides (report-parts.ts).
    parts: site.parts,
    templates,
    candidates: withAbsoluteUrls(candidates, site.allowedOrigins[0]),
    model: model && manifest(model),
    // Evaluated only against a serving model: without one there is no logging policy to compare with.
    candidateModels: model ? evaluated.map(manifest) : [],
  };
  const body = JSON.stringify(config);
  const etag = await etagOf(body);
  c.header('etag', etag);
  c.header('cache-control', 'public, max-age=60');
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  return c.body(body, 200, { 'content-type': 'application/json; charset=utf-8' });
});

/**
 * A catalog's relative URLs ("/product/p1") resolved against the site's first allowed origin:
 * as the page gives them they would resolve against whichever page shows the creative (another
 * shop subdomain, the dashboard's preview) and miss. Absolute URLs pass as they are; a site with
 * no origin yet keeps them relative (README: the catalog's URLs).
 */
function withAbsoluteUrls(candidates: Candidate[], origin: string | undefined): Candidate[] {
  if (!origin) return candidates;
  const absolute = (url: string) => (url.startsWith('/') ? new URL(url, origin).href : url);
  const absoluteOrNull = (url: string | null) => (url === null ? null : absolute(url));
  return candidates.map((c) => ({
    ...c,
    url: absolute(c.url),
    imageUrl: absoluteOrNull(c.imageUrl),
    items: c.items.map((item) => ({ ...item, url: absolute(item.url), imageUrl: absolute(item.imageUrl) })),
  }));
}

publicRoutes.get('/v1/models/:version/:file', async (c) => {
  await enforceRateLimit(c.env, 'READ_LIMITER', c.req.raw, 'models', 'model downloads');
  const version = c.req.param('version');
  const file = c.req.param('file');
  if (!/^[0-9a-f]{16}$/.test(version)) throw new HttpError(400, 'invalid_model_version', 'a model version is 16 hex digits');
  if (file !== 'model.json' && file !== 'weights.bin') throw new HttpError(404, 'not_found', 'a model has model.json and weights.bin');
  const artifact = await modelArtifact(c.env.DB, version, file);
  if (artifact === null) throw new HttpError(404, 'unknown_model', `no model ${version}`);
  const type = file === 'model.json' ? 'application/json' : 'application/octet-stream';
  return c.body(artifact, 200, { ...ANY_ORIGIN, 'content-type': type, 'cache-control': IMMUTABLE });
});

/**
 * A round's public token key (protocol/report-token.ts), the same for every device. Only the
 * open round's: a key for a round that has closed, or has not begun, serves nothing.
 */
publicRoutes.get('/v1/sites/:site/rounds/:round/token-key', async (c) => {
  await enforceRateLimit(c.env, 'READ_LIMITER', c.req.raw, `read:${c.req.param('site')}`, 'token key reads');
  const site = await loadSite(c);
  allowOrigin(c, site);
  const round = openRoundParam(site, c.req.param('round'));
  const {
    verifier: { publicKey },
  } = await roundPlan(c.env, site, round);
  const answer: TokenKeyAnswer = { site: site.id, round, tokenType: REPORT_TOKEN_TYPE, publicKey: toBase64Url(publicKey) };
  // Cached as long as the round lasts: every device of the round must see this one key.
  return c.json(answer, 200, { 'cache-control': `public, max-age=${Math.min(3600, site.roundSeconds)}` });
});

/**
 * Signs a device's blinded token request (RFC 9578 TokenRequest bytes) for the open round: at
 * most the site's tokensPerAddress per client network and round (a device needs one per round).
 * Answers the blind signature, or throws the refusal.
 */
async function issueToken(c: AppContext, site: SiteRow, round: number, request: Uint8Array): Promise<Uint8Array> {
  const open = openRound(site);
  if (round !== open.id) throw roundClosed(`round ${round} is not open; the open round is ${open.id}`, open.id);
  // The allowance is per network and round: the key hashes the round, so a round crossing midnight gets no fresh one.
  const client = await clientKey(c.req.raw, c.env.CLIENT_KEY_SALT ?? c.env.ADMIN_TOKENS, `token:${site.id}`, `round ${open.id}`, site.ipv6Prefix);
  const plan = await roundPlan(c.env, site, open.id);
  const shard = shardOf(client, plan.shards);
  const coordinator = shard === 0 ? null : { site: site.id, round: open.id };
  const issued = await roundShard(c.env.ROUNDS, site.id, open.id, shard).issueToken(coordinator, plan.terms, client, request, site.tokensPerAddress);
  if ('refused' in issued) {
    if (issued.limit) throw new HttpError(429, 'token_limit', `${issued.refused}; the next round's begin at ${new Date(open.deadline).toISOString()}`);
    if (issued.closed) throw roundClosed(`round ${open.id} has closed`, open.id + 1);
    throw new HttpError(400, 'invalid_token_request', issued.refused);
  }
  return issued.response;
}

/**
 * Token issuance as RFC 9578 has it: a TokenRequest posted as application/private-token-request
 * to the round's issuer URL, the blind signature answered as application/private-token-response.
 */
publicRoutes.post('/v1/sites/:site/rounds/:round/token-request', async (c) => {
  const site = await loadSite(c);
  allowOrigin(c, site);
  await enforceRateLimit(c.env, 'REPORT_LIMITER', c.req.raw, site.id, 'token requests');
  const round = roundNumber(c.req.param('round'));
  const request = await readBytes(c.req.raw, TOKEN_REQUEST_TYPE, TOKEN_REQUEST_BYTES);
  const response = await issueToken(c, site, round, request);
  return c.body(response as Uint8Array<ArrayBuffer>, 200, { 'content-type': TOKEN_RESPONSE_TYPE, 'cache-control': 'no-store' });
});

/**
 * The same, in the JSON form widgets of the previous release send (base64url TokenRequest in a
 * text/plain body): kept for one release, then removed (PRIVACY.md).
 */
publicRoutes.post('/v1/sites/:site/tokens', async (c) => {
  const site = await loadSite(c);
  allowOrigin(c, site);
  await enforceRateLimit(c.env, 'REPORT_LIMITER', c.req.raw, site.id, 'token requests');
  const body = await readJson(c.req.raw, TokenRequestSchema, 2048);
  const request = fromBase64Url(body.request);
  if (!request) throw new HttpError(400, 'invalid_token_request', 'the token request is not base64url');
  const response = await issueToken(c, site, body.round, request);
  return c.json({ round: body.round, response: toBase64Url(response) });
});

/** 409 round_closed with the open round, so that a device re-targets what it sends (the error body plus `openRound`). */
function roundClosed(detail: string, openRound: number): HttpError {
  return new HttpError(409, 'round_closed', detail, { openRound });
}

function roundNumber(text: string | undefined): number {
  const round = Number(text);
  if (!/^\d{1,12}$/.test(text ?? '') || !Number.isSafeInteger(round)) throw new HttpError(400, 'invalid_round', 'a round is a whole number');
  return round;
}

function openRoundParam(site: SiteRow, text: string | undefined): number {
  const round = roundNumber(text);
  const open = openRound(site).id;
  if (round !== open) throw new HttpError(409, 'round_closed', `round ${round} is not open; the open round is ${open}`);
  return round;
}

/** What a worker isolate keeps of a round: its plan (shard count, terms) and the check of its tokens. */
interface IsolateRound {
  shards: number;
  terms: RoundTerms;
  verifier: RoundTokenVerifier;
}

/**
 * Each round's plan and the check of its tokens, as this isolate made them ready (neither
 * changes once the round's coordinator fixed them): a report costs no call for them and no
 * repeated set-up.
 */
const isolateRounds = new Map<string, Promise<IsolateRound>>();
function roundPlan(env: Env, site: SiteRow, round: number): Promise<IsolateRound> {
  const name = `${site.id}/${round}`;
  let plan = isolateRounds.get(name);
  if (!plan) {
    if (isolateRounds.size > 1000) isolateRounds.clear();
    plan = roundAggregator(env.ROUNDS, site.id, round)
      .roundPlan(site.roundShards, roundTerms(site, round))
      .then(async (p) => ({ shards: p.shards, terms: p.terms, verifier: await roundTokenVerifier(site.id, round, p.publicKey) }));
    // A failure (the object unreachable) is not kept: the next request asks again.
    plan.catch(() => isolateRounds.delete(name));
    isolateRounds.set(name, plan);
  }
  return plan;
}

publicRoutes.post('/v1/sites/:site/reports', async (c) => {
  const site = await loadSite(c);
  allowOrigin(c, site);
  // Before reading the body: a flooding client costs one digest and one counter per request.
  await enforceRateLimit(c.env, 'REPORT_LIMITER', c.req.raw, site.id, 'reports');
  const report = await readJson(c.req.raw, ReportSchema, MAX_REPORT_BYTES);
  const round = openRound(site);
  if (report.round !== round.id) {
    // The device's config was from another round: it re-targets the report and retries.
    throw roundClosed(`round ${report.round} is not open; the open round is ${round.id}`, round.id);
  }
  // One report per device and round: a token of this round, never seen before (the round's
  // object refuses a spent one). Checked here, where it costs no serialized time. Redeemed in an
  // Authorization header (RFC 9577), or in the body by a page's keepalive report (PRIVACY.md).
  const plan = await roundPlan(c.env, site, round.id);
  const spent = redeemedToken(c, report);
  if (spent === null) {
    // The challenge a standard client answers (RFC 9577): the round's TokenChallenge and key.
    c.header('www-authenticate', await tokenChallengeHeader(site.id, round.id, plan.verifier.publicKey));
    throw new HttpError(401, 'token_required', `a report carries a report token of round ${round.id}: POST ${tokenRequestPath(site.id, round.id)}`);
  }
  const token = await plan.verifier.check(spent);
  if ('refused' in token) throw new HttpError(401, 'invalid_token', token.refused);
  // The clipping bounds the config declares: what the release's noise is calibrated to.
  const privacy = sitePrivacy(site);
  const counts = report.outcomes.flatMap(countVector);
  if (!withinBound(l2Norm(counts), privacy.countClip)) {
    throw new HttpError(422, 'over_clip', `the outcome counts have L2 norm ${l2Norm(counts).toFixed(3)}, above the bound ${privacy.countClip}`);
  }
  // Parts the site does not collect now (report-parts.ts) are left out, whatever a device sent: not summed, never released.
  const notCollected = MODEL_PARTS.filter((part) => report[part] !== undefined && !site.parts.includes(part));
  const collected: Report = { ...report };
  for (const part of notCollected) delete collected[part];
  const parts = await checkedModelParts(c.env.DB, site, collected, privacy);
  // The report goes to its token's shard: the token is spent, and a retry found, in one place.
  const added = await roundShard(c.env.ROUNDS, site.id, round.id, shardOf(token.id, plan.shards)).addReport(collected, plan.terms, parts, token.id);
  for (const part of notCollected) added[part] = 'not_collected';
  if (added.closed) throw roundClosed(`round ${round.id} has closed`, round.id + 1);
  if (added.tokenSpent)
    throw new HttpError(409, 'token_spent', `this token was already spent on another report of round ${round.id}: one report per device and round`);
  return c.json(
    { accepted: true, duplicate: added.duplicate, head: added.head, ope: added.ope, towers: added.towers, offsets: added.offsets },
    added.duplicate ? 200 : 202,
  );
});

/**
 * The token a report redeems: its Authorization header's (RFC 9577) or its body's; null when it
 * has none. Both at once is refused: a report spends one token.
 */
function redeemedToken(c: AppContext, report: Report): string | null {
  const header = c.req.header('authorization');
  const fromHeader = header === undefined ? null : tokenOfAuthorization(header);
  if (header !== undefined && fromHeader === null)
    throw new HttpError(401, 'invalid_token', 'the Authorization header is not "PrivateToken token=<base64url>"');
  if (fromHeader !== null && report.token !== undefined)
    throw new HttpError(400, 'two_tokens', 'a report redeems one token: in the Authorization header or in its body, not both');
  return fromHeader ?? report.token ?? null;
}

/**
 * WWW-Authenticate: PrivateToken challenge=..., token-key=... for the site's round, base64url
 * with its padding (RFC 9577 leaves it optional; the reference client's parser requires it).
 */
async function tokenChallengeHeader(site: string, round: number, publicKey: Uint8Array): Promise<string> {
  const padded = (bytes: Uint8Array) => {
    const text = toBase64Url(bytes);
    return text + '='.repeat((4 - (text.length % 4)) % 4);
  };
  return `PrivateToken challenge="${padded((await reportChallenge(site, round)).serialize())}", token-key="${padded(publicKey)}"`;
}

/**
 * A preflight: reports from the page are simple requests (text/plain, the token in the body);
 * the engine's own reports carry the token in an Authorization header, and token requests are
 * application/private-token-request, both of which a browser preflights.
 */
publicRoutes.options('/v1/sites/:site/*', async (c) => {
  const site = await loadSite(c);
  allowOrigin(c, site);
  c.header('access-control-allow-methods', 'GET, POST');
  c.header('access-control-allow-headers', 'content-type, authorization');
  c.header('access-control-max-age', '86400');
  return c.body(null, 204);
});
