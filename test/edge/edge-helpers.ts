/** Helpers for edge tests: requests through the real worker (SELF) and a seeded site. */
import { createExecutionContext, runInDurableObject, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import worker from '../../edge-worker/src/index.ts';
import type { Env } from '../../edge-worker/src/env.ts';
import { roundAggregator, roundShard } from '../../edge-worker/src/rounds.ts';
import { CREATIVE_DIM, FEATURE_SPEC_HASH, SHOPPER_DIM } from '../../protocol/features.ts';
import { MODEL_FORMAT, parameterCount, weightSpecs } from '../../protocol/model-artifact.ts';
import type { ModelJson, ModelTopology } from '../../protocol/model-artifact.ts';
import { obtainReportToken } from '../../widget/engine/report-token-client.ts';
import { AuthenticatorInput, Token } from '@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js';
import { BLIND_RSA } from '@cloudflare/privacypass-ts/lib/src/pub_verif_token.js';

const TOKEN_TYPES = { BLIND_RSA };
import { reportChallenge, toBase64Url } from '../../protocol/report-token.ts';
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { RoundTerms } from '../../edge-worker/src/round-contract.ts';

export const DEMO_TOKEN = 'test-demo-admin-token-0001';
export const OTHER_TOKEN = 'test-other-admin-token-0002';
export const TIGHT_TOKEN = 'test-tight-admin-token-0004';
export const SHOP_ORIGIN = 'http://shop.example';
/**
 * How long a round that a test opens directly in its Durable Object stays open: an hour, longer
 * than any test. Tests close such a round by running its alarm now (`runDurableObjectAlarm`), and
 * a site's open round by the test controls (`closeOpenRound`): nothing waits on the clock.
 */
export const TEST_ROUND_MS = 3_600_000;

/** The terms of a round a test opens in its object: from now, for TEST_ROUND_MS, unless the test closes it first. */
export function openTerms(minCohort: number, privacy: PrivacyTerms = DEFAULT_PRIVACY): RoundTerms {
  const start = Date.now();
  return { start, deadline: start + TEST_ROUND_MS, minCohort, privacy };
}
const BASE = 'http://edge.test';

export function edge(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, init);
}

/**
 * A request straight to the worker's fetch handler: the same code and bindings, inside workerd,
 * without SELF.fetch's per-file slowdown (cloudflare/workers-sdk#15446: every request of a test
 * file costs more than the one before; here 4 ms at first, 190 ms after 800). For tests that send
 * hundreds of requests.
 */
export async function handle(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function admin(path: string, method: string, body?: unknown, token = DEMO_TOKEN, headers: Record<string, string> = {}): Promise<Response> {
  return edge(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A random client address: every simulated device is a different client unless a test says otherwise. */
export function randomAddress(): string {
  return `10.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`;
}

/**
 * A report token for `site`'s round, obtained as a device obtains it (widget's token client),
 * through the worker, from `address`.
 */
export async function reportToken(site: string, round: number, address = randomAddress(), origin = SHOP_ORIGIN): Promise<string> {
  const send: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('cf-connecting-ip', address);
    headers.set('origin', origin);
    return SELF.fetch(String(input), { ...init, headers });
  };
  const got = await obtainReportToken(BASE, site, round, send);
  if ('refused' in got) throw new Error(`no report token: ${got.refused}`);
  return got.token;
}

/**
 * `n` valid tokens of a round, signed directly with the round's private key read from its
 * Durable Object, without the blind issuance (35 ms of big-number arithmetic each): for tests
 * about sums and floods, not about tokens. The edge cannot tell them from issued ones: same
 * challenge, same key, a valid RSA-PSS signature over the token input.
 */
export async function mintedTokens(site: string, round: number, n: number): Promise<string[]> {
  const stub = roundAggregator(env.ROUNDS, site, round);
  const { pkcs8, publicKey } = await runInDurableObject(stub, async (instance, state) => {
    await (instance as unknown as { tokenKeyPair(): Promise<unknown> }).tokenKeyPair();
    const row = state.storage.sql.exec<{ private_key: ArrayBuffer; public_key: ArrayBuffer }>('SELECT private_key, public_key FROM token_key').one();
    return { pkcs8: new Uint8Array(row.private_key), publicKey: new Uint8Array(row.public_key) };
  });
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-PSS', hash: 'SHA-384' }, false, ['sign']);
  const challengeDigest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array((await reportChallenge(site, round)).serialize())));
  const tokenKeyId = new Uint8Array(await crypto.subtle.digest('SHA-256', publicKey));
  return Promise.all(
    Array.from({ length: n }, async () => {
      const input = new AuthenticatorInput(
        TOKEN_TYPES.BLIND_RSA,
        TOKEN_TYPES.BLIND_RSA.value,
        crypto.getRandomValues(new Uint8Array(32)),
        challengeDigest,
        tokenKeyId,
      );
      const signature = new Uint8Array(await crypto.subtle.sign({ name: 'RSA-PSS', saltLength: 48 }, key, new Uint8Array(input.serialize())));
      return toBase64Url(new Token(TOKEN_TYPES.BLIND_RSA, input, signature).serialize());
    }),
  );
}

/**
 * `n` counts-only reports of a round, each with its own minted token, all of them accepted
 * (202); `outcomes(i)` gives the i-th report's counts. For tests about what a round sums and
 * releases, not about how one report is taken.
 */
export async function postCountReports(
  site: string,
  round: number,
  n: number,
  outcomes: (i: number) => { creativeId: string; impressions: number; clicks: number }[],
): Promise<void> {
  for (const [i, token] of (await mintedTokens(site, round, n)).entries()) {
    const r = await postReport(site, { v: 1, reportId: crypto.randomUUID(), round, modelVersion: null, outcomes: outcomes(i), token });
    expect(r.status).toBe(202);
  }
}

/**
 * A report body as a device sends it: JSON as text/plain from the storefront's origin. A body
 * without a `token` key gets a fresh token of its round first (a device's one report); a test
 * of token refusals sets `token` itself.
 */
export async function postReport(site: string, body: unknown, origin = SHOP_ORIGIN, address = randomAddress()): Promise<Response> {
  let sent = body;
  if (typeof body === 'object' && body !== null && !('token' in body) && typeof (body as { round?: unknown }).round === 'number') {
    // Where no token can be had (an unknown site, a foreign origin, a closed round) the report
    // goes without one: those tests are about what the route answers before it looks for one.
    const token = await reportToken(site, (body as { round: number }).round, address, origin).catch(() => undefined);
    sent = { ...body, token };
  }
  return edge(`/v1/sites/${site}/reports`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin, 'cf-connecting-ip': address },
    body: typeof sent === 'string' ? sent : JSON.stringify(sent),
  });
}

export async function expectOk(response: Promise<Response>): Promise<unknown> {
  const r = await response;
  if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
  return r.json();
}

export async function seedDemoSite(minCohort = 2): Promise<void> {
  // Every part collected whatever the site's scale (report-parts.ts): the edge tests exercise all of them.
  await expectOk(admin('/v1/admin/sites/demo', 'PUT', { name: 'Demo', allowedOrigins: [SHOP_ORIGIN], minCohort, learning: 'full' }));
  await expectOk(
    admin('/v1/admin/sites/demo/products', 'PUT', {
      products: [
        { id: 'p1', name: 'Trail shoe', category: 'shoes', brand: 'Acme', price: 89, imageUrl: '/img/p1.svg', url: '/product/p1', popularity: 0.9 },
        { id: 'p2', name: 'Rain jacket', category: 'outerwear', brand: 'Nimbus', price: 140, imageUrl: '/img/p2.svg', url: '/product/p2', popularity: 0.4 },
        { id: 'p3', name: 'Sold-out cap', category: 'hats', brand: 'Acme', price: 20, imageUrl: '/img/p3.svg', url: '/product/p3', inStock: false },
      ],
    }),
  );
  await expectOk(
    admin('/v1/admin/sites/demo/templates', 'PUT', {
      templates: [
        { id: 'card', layout: 'product_card', headline: ['{product.name}'], cta: ['Shop now'] },
        { id: 'banner', layout: 'banner', headline: ['New in {category}'], cta: ['Discover'] },
      ],
    }),
  );
  await expectOk(
    admin('/v1/admin/sites/demo/creatives', 'PUT', {
      creatives: [
        { id: 'c-p1', templateId: 'card', productId: 'p1', messageType: 'bestseller' },
        { id: 'c-p2', templateId: 'card', productId: 'p2', messageType: 'new' },
        { id: 'c-p3', templateId: 'card', productId: 'p3', messageType: 'sale' },
        { id: 'b-shoes', templateId: 'banner', productId: null, category: 'shoes', messageType: 'new' },
      ],
    }),
  );
}

/** A structurally valid model of the current feature spec, weights filled with `fill`. */
export function tinyModel(fill = 0.01): { model: ModelJson; weights: string } {
  const topology: ModelTopology = { shopperDim: SHOPPER_DIM, creativeDim: CREATIVE_DIM, hidden: 4, embed: 3 };
  const model: ModelJson = {
    format: MODEL_FORMAT,
    specHash: FEATURE_SPEC_HASH,
    topology,
    noiseVariance: 0.01,
    trainedOn: 'edge test fixture',
    weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs(topology) }],
  };
  const floats = new Float32Array(parameterCount(topology)).fill(fill);
  const bytes = new Uint8Array(floats.buffer);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return { model, weights: btoa(binary) };
}

/** The token of each site the edge tests' env lists (edge-worker/vitest.config.ts ADMIN_TOKENS). */
const SITE_TOKENS: Record<string, string> = {
  demo: DEMO_TOKEN,
  other: OTHER_TOKEN,
  'fresh-site': 'test-fresh-admin-token-003',
  tightclip: TIGHT_TOKEN,
  tokens: 'test-tokens-admin-token-0005',
  sharded: 'test-sharded-admin-token-006',
  budget: 'test-budget-admin-token-0007',
  windows: 'test-windows-admin-token-008',
  networks: 'test-networks-admin-token-09',
  offsets: 'test-offsets-admin-token-010',
  holdout: 'test-holdout-admin-token-011',
  sched: 'test-sched-admin-token-00012',
};

/** The admin token of a site the edge tests' env lists. */
export function tokenOf(site: string): string {
  const token = SITE_TOKENS[site];
  if (!token) throw new Error(`no admin token for site ${site} in edge-worker/vitest.config.ts`);
  return token;
}

/** Ends the site's open round now and begins the next (the test controls, edge-worker/src/test-controls.ts). */
export async function closeOpenRound(site = 'demo'): Promise<{ closed: number; open: number }> {
  return (await expectOk(admin(`/v1/test/sites/${site}/rounds/close`, 'POST', undefined, tokenOf(site)))) as { closed: number; open: number };
}

/**
 * Gives the site the schedule a site from before stored schedules has (edge-worker/migrations/
 * 0015): rounds of `roundSeconds` numbered from the epoch, round r beginning at r x roundSeconds,
 * so a test can use rounds that began days or months ago (the test owns the calendar).
 */
export async function epochSchedule(site: string, roundSeconds: number): Promise<void> {
  await expectOk(admin(`/v1/test/sites/${site}/schedule`, 'PUT', { segments: [{ fromRound: 0, startsAt: 0, roundSeconds }] }, tokenOf(site)));
}

export async function currentRoundId(site = 'demo'): Promise<number> {
  const config = (await expectOk(edge(`/v1/sites/${site}/config`))) as { round: { id: number } };
  return config.round.id;
}

export interface ExactRound {
  contributors: number;
  totals: { creativeId: string; impressions: number; clicks: number; conversions: number; dismissals: number }[];
  head: { modelVersion: string; reports: number; stats: number[] } | null;
  /** Off-policy sums per evaluated model, and the summed tower gradient. */
  ope: Record<string, number[]>;
  towers: { modelVersion: string; reports: number; sums: Float64Array } | null;
  /** Offsets [clicks, expected] per key. */
  offsets: Record<string, [number, number]>;
}

/**
 * A round's exact sums, read inside its Durable Objects (every shard of it, added up). Only tests
 * can: no route returns them (what leaves the round is noised), so this is how tests check that a
 * sum is exact.
 */
export async function exactRound(round: number, site = 'demo'): Promise<ExactRound> {
  const shards = await runInDurableObject(
    roundAggregator(env.ROUNDS, site, round),
    (_i, state) => state.storage.sql.exec<{ shards: number }>('SELECT shards FROM plan').toArray()[0]?.shards ?? 1,
  );
  const parts = await Promise.all(
    Array.from({ length: shards }, (_, shard) =>
      runInDurableObject(roundShard(env.ROUNDS, site, round, shard), (_instance, state) => shardRows(state.storage.sql)),
    ),
  );
  const totals = new Map<string, ExactRound['totals'][number]>();
  for (const p of parts) {
    for (const t of p.totals) {
      const sum = totals.get(t.creativeId) ?? { creativeId: t.creativeId, impressions: 0, clicks: 0, conversions: 0, dismissals: 0 };
      totals.set(t.creativeId, {
        creativeId: t.creativeId,
        impressions: sum.impressions + t.impressions,
        clicks: sum.clicks + t.clicks,
        conversions: sum.conversions + t.conversions,
        dismissals: sum.dismissals + t.dismissals,
      });
    }
  }
  const add = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (x, i) => x + b[i]!);
  const heads = parts.flatMap((p) => (p.head ? [p.head] : []));
  const towers = parts.flatMap((p) => (p.towers ? [p.towers] : []));
  const ope: Record<string, number[]> = {};
  for (const p of parts) for (const [m, sums] of Object.entries(p.ope)) ope[m] = ope[m] ? add(ope[m]!, sums) : sums;
  const offsets: Record<string, [number, number]> = {};
  for (const p of parts) for (const [k, [c, e]] of Object.entries(p.offsets)) offsets[k] = [(offsets[k]?.[0] ?? 0) + c, (offsets[k]?.[1] ?? 0) + e];
  return {
    contributors: parts.reduce((n, p) => n + p.contributors, 0),
    totals: [...totals.values()].sort((a, b) => a.creativeId.localeCompare(b.creativeId)),
    head:
      heads.length === 0
        ? null
        : {
            modelVersion: heads[0]!.modelVersion,
            reports: heads.reduce((n, h) => n + h.reports, 0),
            stats: heads.map((h) => h.stats).reduce((a, b) => add(a, b)),
          },
    ope,
    offsets,
    towers:
      towers.length === 0
        ? null
        : {
            modelVersion: towers[0]!.modelVersion,
            reports: towers.reduce((n, t) => n + t.reports, 0),
            sums: Float64Array.from(towers.map((t) => t.sums).reduce((a, b) => Float64Array.from(add(a, b)))),
          },
  };
}

function shardRows(sql: SqlStorage): ExactRound {
  const contributors = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM reports').one().n;
  const totals = sql
    .exec<{ creative_id: string; impressions: number; clicks: number; conversions: number; dismissals: number }>(
      'SELECT creative_id, impressions, clicks, conversions, dismissals FROM creative_totals ORDER BY creative_id',
    )
    .toArray()
    .map((r) => ({ creativeId: r.creative_id, impressions: r.impressions, clicks: r.clicks, conversions: r.conversions, dismissals: r.dismissals }));
  const head = sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
  const ope = Object.fromEntries(
    sql
      .exec<{ model_version: string; sums: string }>('SELECT model_version, sums FROM ope_sums')
      .toArray()
      .map((r) => [r.model_version, JSON.parse(r.sums) as number[]]),
  );
  const t = sql.exec<{ model_version: string; reports: number; sums: ArrayBuffer }>('SELECT model_version, reports, sums FROM tower_sums').toArray()[0];
  const offsets = Object.fromEntries(
    sql
      .exec<{ key: string; clicks: number; expected: number }>('SELECT key, clicks, expected FROM offset_sums')
      .toArray()
      .map((r) => [r.key, [r.clicks, r.expected] as [number, number]]),
  );
  return {
    contributors,
    totals,
    head: head ? { modelVersion: head.model_version, reports: head.reports, stats: JSON.parse(head.stats) as number[] } : null,
    ope,
    offsets,
    towers: t ? { modelVersion: t.model_version, reports: t.reports, sums: new Float64Array(t.sums.slice(0)) } : null,
  };
}

/**
 * A small site of its own for a test file: one product, one card template, one creative (c-p1),
 * K = 2, the shop's origin allowed. `name` is the shop's name.
 */
export async function seedOneCreativeSite(site: string, name: string): Promise<void> {
  const as = (path: string, method: string, body?: unknown) => admin(`/v1/admin/sites/${site}${path}`, method, body, tokenOf(site));
  await expectOk(as('', 'PUT', { name, allowedOrigins: [SHOP_ORIGIN], minCohort: 2 }));
  await expectOk(
    as('/products', 'PUT', {
      products: [
        { id: 'p1', name: 'Trail shoe', category: 'shoes', brand: 'Acme', price: 89, imageUrl: 'https://shop.example/p1.svg', url: 'https://shop.example/p1' },
      ],
    }),
  );
  await expectOk(as('/templates', 'PUT', { templates: [{ id: 'card', layout: 'product_card', headline: ['{product.name}'], cta: ['Shop now'] }] }));
  await expectOk(as('/creatives', 'PUT', { creatives: [{ id: 'c-p1', templateId: 'card', productId: 'p1', messageType: 'sale' }] }));
}
