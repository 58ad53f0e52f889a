/**
 * The contract, both ways (issue 18 item 7): every admin answer the trainer's client or the
 * dashboard reads parses with its schema in protocol/admin-answers.ts, the schemas both clients
 * parse with, so an edge that drifts from them fails here before a client fails in the field.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import {
  CatalogAnswerSchema,
  LedgerSchema,
  ModelsAnswerSchema,
  ModelUploadAnswerSchema,
  RoundAnswerSchema,
  RoundsAnswerSchema,
  ServingAnswerSchema,
  SiteAnswerSchema,
  UpsertAnswerSchema,
} from '../../protocol/admin-answers.ts';
import { admin, closeOpenRound, expectOk, seedDemoSite, SHOP_ORIGIN, tinyModel } from './edge-helpers.ts';

/** Parses strictly: an answer with a field the schema does not declare fails too. */
function strictly<T extends v.ObjectSchema<v.ObjectEntries, undefined>>(schema: T, answer: unknown): v.InferOutput<T> {
  const strict = v.strictObject(schema.entries);
  const parsed = v.safeParse(strict, answer);
  if (!parsed.success) throw new Error(`the answer does not match its schema: ${parsed.issues.map((i) => `${v.getDotPath(i) ?? ''} ${i.message}`).join('; ')}`);
  return parsed.output as v.InferOutput<T>;
}

describe('every admin answer matches its schema in protocol/', () => {
  beforeAll(() => seedDemoSite(2));

  it('site settings, catalog, upserts', async () => {
    const put = strictly(SiteAnswerSchema, await expectOk(admin('/v1/admin/sites/demo', 'PUT', { name: 'Demo', allowedOrigins: [SHOP_ORIGIN], minCohort: 2 })));
    expect(put).toMatchObject({ id: 'demo', minCohort: 2, roundShards: 1 });
    expect(strictly(SiteAnswerSchema, await expectOk(admin('/v1/admin/sites/demo', 'GET')))).toEqual(put);
    const catalog = strictly(CatalogAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/catalog', 'GET')));
    expect(catalog.products.length).toBeGreaterThan(0);
    expect(catalog.templates.length).toBeGreaterThan(0);
    const product = catalog.products[0]!;
    expect(strictly(UpsertAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/products', 'PUT', { products: [product] })))).toEqual({ upserted: 1 });
  });

  it('models: upload, list, promote, roll back', async () => {
    const upload = strictly(ModelUploadAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/models', 'POST', tinyModel(0.031))));
    const second = strictly(ModelUploadAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/models', 'POST', tinyModel(0.032))));
    expect(strictly(ServingAnswerSchema, await expectOk(admin(`/v1/admin/sites/demo/models/${upload.version}/promote`, 'POST')))).toEqual({
      version: upload.version,
      status: 'serving',
    });
    await expectOk(admin(`/v1/admin/sites/demo/models/${second.version}/promote`, 'POST'));
    expect(strictly(ServingAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/models/rollback', 'POST')))).toEqual({
      version: upload.version,
      status: 'serving',
    });
    const models = strictly(ModelsAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/models', 'GET')));
    expect(models.models.find((m) => m.version === upload.version)?.status).toBe('serving');
  });

  it('rounds and the ledger', async () => {
    // Three rounds closed by the test controls: the first of them is three rounds back.
    const { closed: round } = await closeOpenRound();
    await closeOpenRound();
    await closeOpenRound();
    strictly(RoundAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/rounds/current', 'GET')));
    strictly(RoundAnswerSchema, await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET')));
    strictly(RoundAnswerSchema, await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}/release`, 'POST')));
    const rounds = strictly(RoundsAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/rounds?last=5', 'GET')));
    expect(rounds.rounds.map((r) => r.round)).toContain(round);
    strictly(LedgerSchema, await expectOk(admin('/v1/admin/sites/demo/privacy', 'GET')));
  });
});
