/**
 * A merchant's settings stay set: PATCH changes only the fields it names (PUT still replaces,
 * as documented), a field set to null goes back to its default, a bad field is refused with its
 * name and changes nothing, and a new round length starts with the next round, never
 * renumbering the open one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { SiteAnswerSchema } from '../../protocol/admin-answers.ts';
import { SiteConfigSchema } from '../../protocol/wire.ts';
import { admin, edge, expectOk, OTHER_TOKEN, seedDemoSite, SHOP_ORIGIN } from './edge-helpers.ts';

const site = async () => v.parse(SiteAnswerSchema, await expectOk(admin('/v1/admin/sites/demo', 'GET')));
const openRound = async () => v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config', { cache: 'no-store' })).json()).round;

describe('site settings: PATCH keeps what it does not name', () => {
  beforeAll(async () => {
    await seedDemoSite(5);
    await expectOk(
      admin('/v1/admin/sites/demo', 'PUT', {
        name: 'Demo',
        allowedOrigins: [SHOP_ORIGIN],
        minCohort: 5,
        roundSeconds: 3600,
        tokensPerAddress: 1000,
        learning: 'full',
      }),
    );
  });

  it('changes allowedOrigins alone: no name needed, minCohort, round length and token limit kept', async () => {
    const before = await site();
    const patched = v.parse(
      SiteAnswerSchema,
      await expectOk(admin('/v1/admin/sites/demo', 'PATCH', { allowedOrigins: [SHOP_ORIGIN, 'https://www.shop.example'] })),
    );
    expect(patched.allowedOrigins).toEqual([SHOP_ORIGIN, 'https://www.shop.example']);
    expect(patched).toMatchObject({ name: 'Demo', minCohort: 5, roundSeconds: 3600, tokensPerAddress: 1000, learning: 'full' });
    expect({ ...patched, allowedOrigins: before.allowedOrigins }).toEqual(before);
    expect(await site()).toEqual(patched);
  });

  it('a field set to null goes back to its default; PUT replaces everything (what it leaves out: defaults)', async () => {
    expect(v.parse(SiteAnswerSchema, await expectOk(admin('/v1/admin/sites/demo', 'PATCH', { frequencyCapPerDay: 7 }))).frequencyCapPerDay).toBe(7);
    expect(v.parse(SiteAnswerSchema, await expectOk(admin('/v1/admin/sites/demo', 'PATCH', { frequencyCapPerDay: null }))).frequencyCapPerDay).toBe(3);
    const put = v.parse(
      SiteAnswerSchema,
      await expectOk(admin('/v1/admin/sites/demo', 'PUT', { name: 'Demo', allowedOrigins: [SHOP_ORIGIN], roundSeconds: 3600 })),
    );
    expect(put).toMatchObject({ minCohort: 50, tokensPerAddress: 20 });
    await expectOk(admin('/v1/admin/sites/demo', 'PATCH', { minCohort: 5, learning: 'full' }));
  });

  it('refuses a bad or unknown field with its name, and changes nothing', async () => {
    const before = await site();
    for (const [body, field] of [
      [{ minCohort: 1 }, 'minCohort'],
      [{ allowedOrigins: ['shop.example'] }, 'allowedOrigins'],
      [{ minCohrt: 5 }, 'minCohrt'],
    ] as const) {
      const r = await admin('/v1/admin/sites/demo', 'PATCH', body);
      expect(r.status).toBe(422);
      expect(await r.json()).toMatchObject({ error: 'invalid_body', detail: expect.stringContaining(field) });
    }
    expect(await site()).toEqual(before);
  });

  it('a PATCH of an unknown site is a 404 that says to create it with PUT; another site token is refused', async () => {
    const r = await admin('/v1/admin/sites/other', 'PATCH', { minCohort: 5 }, OTHER_TOKEN);
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ error: 'unknown_site', detail: expect.stringContaining('PUT') });
    expect((await admin('/v1/admin/sites/demo', 'PATCH', { minCohort: 6 }, OTHER_TOKEN)).status).toBe(403);
  });

  it('a new round length starts with the next round: the open round keeps its number and its deadline', async () => {
    const open = await openRound();
    // A length other than the open round's own.
    const openLength = (await site()).roundSchedule.filter((g) => g.fromRound <= open.id).at(-1)!.roundSeconds;
    const length = openLength === 7200 ? 10_800 : 7200;
    const patched = v.parse(SiteAnswerSchema, await expectOk(admin('/v1/admin/sites/demo', 'PATCH', { roundSeconds: length })));
    expect(patched.roundSeconds).toBe(length);
    expect(await openRound()).toMatchObject({ id: open.id, deadline: open.deadline });
    expect(patched.roundSchedule.at(-1)).toEqual({ fromRound: open.id + 1, roundSeconds: length, startsAt: Date.parse(open.deadline) });
  });
});
