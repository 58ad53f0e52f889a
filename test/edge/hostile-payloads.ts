/**
 * Hostile and malformed payloads for the edge fuzz test, generated with fast-check in Node when
 * the edge test config loads (fast-check inside the workers pool ran about 20x slower per
 * payload), and handed to the tests in workerd as a binding. Every payload is checked here to
 * be invalid for the route it targets, so "only 4xx and no state change" is the right outcome.
 */
import fc from 'fast-check';
import * as v from 'valibot';
import { ReportSchema, UpsertCreativesSchema, UpsertProductsSchema, UpsertTemplatesSchema } from '../../protocol/wire.ts';
import { SiteSettingsSchema } from '../../protocol/site-settings.ts';

export type HostilePayload = {
  route: string;
  method: 'POST' | 'PUT';
  contentType: string;
  body: string;
};

const PAYLOADS_PER_ROUTE = 1000;
const SEED = 20261128;

/** Keys and values that have broken JSON handlers before: prototype keys, huge and odd numbers, long and odd strings. */
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', ' ', '\u0000', 'a'.repeat(300));
const hostileValue = fc.oneof(
  fc.constantFrom(
    null,
    true,
    -1,
    1e308,
    -1e308,
    2 ** 53 + 1,
    0.1,
    '',
    'NaN',
    'Infinity',
    '<script>alert(1)</script>',
    'javascript:alert(1)',
    '../../etc/passwd',
    "'; DROP TABLE sites; --",
    '\u202e\u0000\ud800',
  ),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
);

/** A valid-looking report with one thing broken, or something else entirely. */
function reportArbitrary() {
  const good = {
    v: 1,
    reportId: '8d5c3c3e-9b9a-4c3e-8f0e-0d5c3c3e9b9a',
    round: 1,
    modelVersion: null,
    outcomes: [{ creativeId: 'banner-hats', impressions: 1, clicks: 0 }],
  };
  return fc.oneof(
    fc.record({ field: fc.constantFrom(...Object.keys(good)), value: hostileValue }).map(({ field, value }) => ({ ...good, [field]: value })),
    fc
      .record({ field: fc.constantFrom('creativeId', 'impressions', 'clicks'), value: hostileValue })
      .map(({ field, value }) => ({ ...good, outcomes: [{ ...good.outcomes[0], [field]: value }] })),
    // An extra own key, __proto__ included (defineProperty, so it is data and not the prototype).
    fc
      .record({ key: hostileKey, value: hostileValue })
      .map(({ key, value }) => Object.defineProperty({ ...good }, key, { value, enumerable: true, writable: true, configurable: true })),
    fc
      .array(fc.record({ creativeId: fc.string(), impressions: fc.integer(), clicks: fc.integer() }), { minLength: 0, maxLength: 3 })
      .map((outcomes) => ({ ...good, outcomes })),
    fc.jsonValue({ maxDepth: 3 }),
  );
}

/** A token request with one thing broken, or bytes that are no TokenRequest (a closed round's, at best). */
function tokenRequestArbitrary() {
  const good = { round: 1, request: 'AAIA' };
  return fc.oneof(
    fc.record({ field: fc.constantFrom('round', 'request'), value: hostileValue }).map(({ field, value }) => ({ ...good, [field]: value })),
    fc
      .record({ key: hostileKey, value: hostileValue })
      .map(({ key, value }) => Object.defineProperty({ ...good }, key, { value, enumerable: true, writable: true, configurable: true })),
    fc.base64String({ maxLength: 400 }).map((b) => ({ round: 1, request: b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') })),
    fc.jsonValue({ maxDepth: 3 }),
  );
}

function adminArbitrary() {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(fc.oneof(hostileKey, fc.string({ maxLength: 12 })), hostileValue, { maxKeys: 6 }),
    fc.record({ name: hostileValue, allowedOrigins: fc.oneof(hostileValue, fc.array(hostileValue, { maxLength: 3 })) }),
    fc.record({
      products: fc.array(fc.dictionary(fc.constantFrom('id', 'name', 'category', 'brand', 'price', 'imageUrl', 'url', 'inStock'), hostileValue), {
        maxLength: 3,
      }),
    }),
    fc.record({ templates: fc.array(fc.dictionary(fc.constantFrom('id', 'layout', 'headline', 'body', 'cta'), hostileValue), { maxLength: 3 }) }),
    fc.record({
      creatives: fc.array(fc.dictionary(fc.constantFrom('id', 'templateId', 'productId', 'category', 'messageType'), hostileValue), { maxLength: 3 }),
    }),
    fc.record({ model: hostileValue, weights: hostileValue }),
  );
}

/** What arrives on the wire: the JSON of a value, or bytes that are not JSON at all. */
function bodies(values: fc.Arbitrary<unknown>) {
  return fc.oneof(
    { weight: 6, arbitrary: values.map((x) => JSON.stringify(x) ?? 'null') },
    { weight: 1, arbitrary: values.map((x) => (JSON.stringify(x) ?? 'null').slice(0, -1)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  );
}

const ROUTES: { route: string; method: 'POST' | 'PUT'; schema: v.GenericSchema | null; values: fc.Arbitrary<unknown>; contentType: string }[] = [
  { route: '/v1/sites/demo/reports', method: 'POST', schema: ReportSchema, values: reportArbitrary(), contentType: 'text/plain;charset=UTF-8' },
  // Token requests: none is for the open round, so none may be signed (schema-valid ones included).
  { route: '/v1/sites/demo/tokens', method: 'POST', schema: null, values: tokenRequestArbitrary(), contentType: 'text/plain;charset=UTF-8' },
  { route: '/v1/admin/sites/demo', method: 'PUT', schema: SiteSettingsSchema, values: adminArbitrary(), contentType: 'application/json' },
  { route: '/v1/admin/sites/demo/products', method: 'PUT', schema: UpsertProductsSchema, values: adminArbitrary(), contentType: 'application/json' },
  { route: '/v1/admin/sites/demo/templates', method: 'PUT', schema: UpsertTemplatesSchema, values: adminArbitrary(), contentType: 'application/json' },
  { route: '/v1/admin/sites/demo/creatives', method: 'PUT', schema: UpsertCreativesSchema, values: adminArbitrary(), contentType: 'application/json' },
  // A model upload is validated by schema, then by artifact checks: nothing random passes both.
  { route: '/v1/admin/sites/demo/models', method: 'POST', schema: null, values: adminArbitrary(), contentType: 'application/json' },
  // Commands without a body: anything sent along is refused.
  { route: '/v1/admin/sites/demo/models/rollback', method: 'POST', schema: null, values: adminArbitrary(), contentType: 'application/json' },
  { route: '/v1/admin/sites/demo/rounds/1/release', method: 'POST', schema: null, values: adminArbitrary(), contentType: 'application/json' },
];

function invalidFor(schema: v.GenericSchema | null, body: string): boolean {
  if (!schema) return true;
  try {
    return !v.is(schema, JSON.parse(body));
  } catch {
    return true;
  }
}

export function hostilePayloads(): HostilePayload[] {
  return ROUTES.flatMap(({ route, method, schema, values, contentType }, r) =>
    fc
      .sample(bodies(values), { seed: SEED + r, numRuns: PAYLOADS_PER_ROUTE * 2 })
      .filter((body) => body.length > 0 && invalidFor(schema, body))
      .slice(0, PAYLOADS_PER_ROUTE)
      .map((body) => ({ route, method, contentType, body })),
  );
}
