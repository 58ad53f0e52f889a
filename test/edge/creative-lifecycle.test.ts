/**
 * A merchant's campaigns: a creative (or a template, and with it its creatives) paused or
 * scheduled is kept in the catalog and served to no device outside its time; one deleted is gone; a template or product still used by creatives is
 * not deleted (409, naming them), and a schedule that ends before it starts is refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { DeletedAnswerSchema } from '../../protocol/admin-answers.ts';
import { SiteConfigSchema } from '../../protocol/wire.ts';
import { admin, edge, expectOk, seedDemoSite } from './edge-helpers.ts';

const served = async () => v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config', { cache: 'no-store' })).json()).candidates.map((c) => c.id);
const catalogCreative = async (id: string) =>
  (
    (await expectOk(admin('/v1/admin/sites/demo/catalog', 'GET'))) as { creatives: { id: string; status?: string; startsAt?: string; endsAt?: string }[] }
  ).creatives.find((c) => c.id === id);
const put = (creative: object) =>
  admin('/v1/admin/sites/demo/creatives', 'PUT', { creatives: [{ id: 'c-p1', templateId: 'card', productId: 'p1', messageType: 'bestseller', ...creative }] });
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

describe("a creative's life", () => {
  beforeAll(() => seedDemoSite());

  it('paused: kept in the catalog, served to no device; active again: served', async () => {
    expect(await served()).toContain('c-p1');
    await expectOk(put({ status: 'paused' }));
    expect(await served()).not.toContain('c-p1');
    expect(await catalogCreative('c-p1')).toMatchObject({ status: 'paused' });
    await expectOk(put({ status: 'active' }));
    expect(await served()).toContain('c-p1');
  });

  it('scheduled: served only from its start and until its end', async () => {
    const now = Date.now();
    await expectOk(put({ startsAt: iso(now + HOUR) }));
    expect(await served()).not.toContain('c-p1');
    expect(await catalogCreative('c-p1')).toMatchObject({ status: 'active', startsAt: iso(now + HOUR) });
    await expectOk(put({ startsAt: iso(now - HOUR), endsAt: iso(now - 1000) }));
    expect(await served()).not.toContain('c-p1');
    await expectOk(put({ startsAt: iso(now - HOUR), endsAt: iso(now + HOUR) }));
    expect(await served()).toContain('c-p1');
    await expectOk(put({}));
  });

  it('refuses a schedule that ends before it starts, or an instant without its offset, with the reason (422)', async () => {
    const now = Date.now();
    const backwards = await put({ startsAt: iso(now + HOUR), endsAt: iso(now) });
    expect(backwards.status).toBe(422);
    expect(JSON.stringify(await backwards.json())).toContain('endsAt must be after startsAt');
    const local = await put({ startsAt: '2026-12-24 10:00' });
    expect(local.status).toBe(422);
    expect(JSON.stringify(await local.json())).toContain('ISO 8601');
    expect(await served()).toContain('c-p1');
  });

  it('a template paused or out of its schedule holds back every creative made from it; active again, they are served', async () => {
    const catalog = (await expectOk(admin('/v1/admin/sites/demo/catalog', 'GET'))) as {
      templates: { id: string }[];
      creatives: { id: string; templateId: string }[];
    };
    const card = catalog.templates.find((t) => t.id === 'card')!;
    const before = await served();
    const fromCard = catalog.creatives.filter((c) => c.templateId === 'card' && before.includes(c.id)).map((c) => c.id);
    expect(fromCard.length).toBeGreaterThan(0);
    const putTemplate = (life: object) => admin('/v1/admin/sites/demo/templates', 'PUT', { templates: [{ ...card, ...life }] });
    const now = Date.now();
    for (const life of [{ status: 'paused' }, { startsAt: iso(now + HOUR) }, { endsAt: iso(now - 1000) }]) {
      await expectOk(putTemplate(life));
      const shown = await served();
      expect([life, fromCard.filter((id) => shown.includes(id))]).toEqual([life, []]);
    }
    const backwards = await putTemplate({ startsAt: iso(now + HOUR), endsAt: iso(now) });
    expect(backwards.status).toBe(422);
    expect(JSON.stringify(await backwards.json())).toContain('endsAt must be after startsAt');
    await expectOk(putTemplate({ startsAt: iso(now - HOUR), endsAt: iso(now + HOUR) }));
    expect(await served()).toEqual(before);
    await expectOk(putTemplate({}));
  });

  it('refuses to delete a template or product creatives use (409, naming them); deletes a creative, then them', async () => {
    await expectOk(
      admin('/v1/admin/sites/demo/templates', 'PUT', { templates: [{ id: 'solo', layout: 'product_card', headline: ['{product.name}'], cta: ['Go'] }] }),
    );
    await expectOk(admin('/v1/admin/sites/demo/creatives', 'PUT', { creatives: [{ id: 'c-solo', templateId: 'solo', productId: 'p2', messageType: 'new' }] }));
    const inUse = await admin('/v1/admin/sites/demo/templates/solo', 'DELETE');
    expect(inUse.status).toBe(409);
    expect(await inUse.json()).toMatchObject({ error: 'in_use', detail: expect.stringContaining('c-solo') });
    const productInUse = await admin('/v1/admin/sites/demo/products/p2', 'DELETE');
    expect(productInUse.status).toBe(409);
    expect(v.parse(DeletedAnswerSchema, await expectOk(admin('/v1/admin/sites/demo/creatives/c-solo', 'DELETE')))).toEqual({ deleted: 'c-solo' });
    expect(await served()).not.toContain('c-solo');
    expect(await catalogCreative('c-solo')).toBeUndefined();
    expect(await expectOk(admin('/v1/admin/sites/demo/templates/solo', 'DELETE'))).toEqual({ deleted: 'solo' });
    const again = await admin('/v1/admin/sites/demo/creatives/c-solo', 'DELETE');
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: 'unknown_creative' });
  });
});
