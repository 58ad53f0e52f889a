import { beforeAll, describe, expect, it } from 'vitest';
import { SiteConfigSchema } from '../../protocol/wire.ts';
import * as v from 'valibot';
import { admin, edge, expectOk, OTHER_TOKEN, seedDemoSite, SHOP_ORIGIN, tinyModel } from './edge-helpers.ts';

describe('GET /v1/sites/:site/config', () => {
  beforeAll(() => seedDemoSite());

  it('serves a valid config of in-stock candidates with an ETag, and 304 when unchanged', async () => {
    const r = await edge('/v1/sites/demo/config', { headers: { origin: SHOP_ORIGIN } });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    const config = v.parse(SiteConfigSchema, await r.json());
    expect(config.candidates.map((c) => c.id).sort()).toEqual(['b-shoes', 'c-p1', 'c-p2']);
    const banner = config.candidates.find((c) => c.id === 'b-shoes')!;
    // The catalog's relative URLs come resolved against the site's first allowed origin.
    expect(banner).toMatchObject({ layout: 'banner', category: 'shoes', url: `${SHOP_ORIGIN}/product/p1`, imageUrl: `${SHOP_ORIGIN}/img/p1.svg` });
    const etag = r.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{24}"$/);
    const again = await edge('/v1/sites/demo/config', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
  });

  it('gives a carousel the in-stock products of its category, most popular first, and a product its list price', async () => {
    await expectOk(
      admin('/v1/admin/sites/demo/products', 'PUT', {
        products: [
          {
            id: 'p4',
            name: 'Road shoe',
            category: 'shoes',
            brand: 'Acme',
            price: 60,
            listPrice: 80,
            imageUrl: '/img/p4.svg',
            url: '/product/p4',
            popularity: 0.5,
          },
        ],
      }),
    );
    await expectOk(
      admin('/v1/admin/sites/demo/templates', 'PUT', {
        templates: [{ id: 'picks', layout: 'carousel', headline: ['{category} for you'], cta: ['See all'], badge: ['Top picks'] }],
      }),
    );
    await expectOk(
      admin('/v1/admin/sites/demo/creatives', 'PUT', {
        creatives: [{ id: 'k-shoes', templateId: 'picks', productId: null, category: 'shoes', messageType: 'personal' }],
      }),
    );
    const config = v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json());
    const carousel = config.candidates.find((c) => c.id === 'k-shoes')!;
    expect(carousel.layout).toBe('carousel');
    expect(carousel.items.map((i) => i.id)).toEqual(['p1', 'p4']); // popularity 0.9, 0.5; p3 is another category
    expect(carousel.items[1]).toMatchObject({ price: 60, listPrice: 80 });
    expect(config.candidates.find((c) => c.id === 'c-p1')!.items).toEqual([]);
  });

  it("carries a product's GTIN and MPN to the devices (a page may name it by them), and the catalog keeps them; a GTIN of another length is refused", async () => {
    const product = {
      id: 'p5',
      name: 'Trail shoe',
      category: 'shoes',
      brand: 'Acme',
      price: 89,
      imageUrl: '/img/p5.svg',
      url: '/product/p5',
      popularity: 0.95,
    };
    await expectOk(admin('/v1/admin/sites/demo/products', 'PUT', { products: [{ ...product, gtin: '4006381333931', mpn: 'TS-100' }] }));
    await expectOk(admin('/v1/admin/sites/demo/creatives', 'PUT', { creatives: [{ id: 'c-p5', templateId: 'card', productId: 'p5', messageType: 'sale' }] }));
    const config = v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config', { cache: 'no-store' })).json());
    expect(config.candidates.find((c) => c.id === 'c-p5')).toMatchObject({ productId: 'p5', gtin: '4006381333931', mpn: 'TS-100' });
    // The most popular shoe heads the shoes carousel, with its identifiers.
    expect(config.candidates.find((c) => c.id === 'k-shoes')!.items[0]).toMatchObject({ id: 'p5', gtin: '4006381333931', mpn: 'TS-100' });
    const catalog = (await expectOk(admin('/v1/admin/sites/demo/catalog', 'GET'))) as { products: { id: string; gtin?: string }[] };
    expect(catalog.products.find((p) => p.id === 'p5')).toMatchObject({ gtin: '4006381333931', mpn: 'TS-100' });
    const refused = await admin('/v1/admin/sites/demo/products', 'PUT', { products: [{ ...product, gtin: '40063813339' }] });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(await refused.json())).toContain('a GTIN is 8, 12, 13 or 14 digits');
  });

  it("carries the site's currency (USD unless set); a currency that is not an ISO 4217 code is refused with the reason, and changes nothing", async () => {
    const config = async () => v.parse(SiteConfigSchema, await (await edge('/v1/sites/other/config')).json());
    await expectOk(admin('/v1/admin/sites/other', 'PUT', { name: 'Other', allowedOrigins: [] }, OTHER_TOKEN));
    expect((await config()).currency).toBe('USD');
    await expectOk(admin('/v1/admin/sites/other', 'PUT', { name: 'Other', allowedOrigins: [], currency: 'EUR' }, OTHER_TOKEN));
    expect(await (await admin('/v1/admin/sites/other', 'GET', undefined, OTHER_TOKEN)).json()).toMatchObject({ currency: 'EUR' });
    for (const currency of ['eur', 'EURO', '€', 12]) {
      const r = await admin('/v1/admin/sites/other', 'PUT', { name: 'Other', allowedOrigins: [], currency }, OTHER_TOKEN);
      expect(r.status).toBe(422);
      expect(await r.json()).toMatchObject({ error: 'invalid_body', detail: expect.stringContaining('currency') });
    }
    // The isolate that took the change forgets its copy of the site at once (site-cache.ts).
    expect((await config()).currency).toBe('EUR');
  });

  it('answers an unknown site with a JSON 404', async () => {
    const r = await edge('/v1/sites/unknown-shop/config');
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'unknown_site', detail: expect.stringContaining('unknown-shop') });
  });

  it("makes its refusals readable by the page that asked (CORS on 4xx), so the widget can say why; successes stay the site's origins'", async () => {
    const stranger = 'https://not-the-shop.example';
    const refused = await edge('/v1/sites/demo/config', { headers: { origin: stranger } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe(stranger);
    expect(refused.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await refused.json()).toEqual({ error: 'origin_not_allowed', detail: `${stranger} is not in the allowed origins of site demo` });
    const unknown = await edge('/v1/sites/unknown-shop/config', { headers: { origin: stranger } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('access-control-allow-origin')).toBe(stranger);
    // The admin API's refusals are not for pages of other origins.
    const admin401 = await edge('/v1/admin/sites/demo/rounds/current', { headers: { origin: stranger } });
    expect(admin401.status).toBe(401);
    expect(admin401.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('admin API', () => {
  beforeAll(() => seedDemoSite());

  it('answers 401 without a token and 403 with another site token', async () => {
    const none = await edge('/v1/admin/sites/demo/rounds/current');
    expect(none.status).toBe(401);
    const other = await admin('/v1/admin/sites/demo/rounds/current', 'GET', undefined, OTHER_TOKEN);
    expect(other.status).toBe(403);
    const guess = await admin('/v1/admin/sites/demo/rounds/current', 'GET', undefined, 'x'.repeat(26));
    expect(guess.status).toBe(403);
  });

  it('rejects a creative that references an unknown template, saving nothing', async () => {
    const r = await admin('/v1/admin/sites/demo/creatives', 'PUT', {
      creatives: [{ id: 'ghost', templateId: 'missing', productId: 'p1', messageType: 'new' }],
    });
    expect(r.status).toBe(422);
    expect(((await r.json()) as { detail: string }).detail).toContain('unknown template missing');
    const config = v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json());
    expect(config.candidates.some((c) => c.id === 'ghost')).toBe(false);
  });

  it('rejects a template that fails validation with the failing path, saving nothing', async () => {
    const cases: [unknown, string][] = [
      [{ id: 't1', layout: 'banner', headline: ['x'], cta: ['y'], image: 'javascript:alert(1)' }, 'templates.0.image'],
      [{ id: 't2', layout: 'slideshow', headline: ['x'], cta: ['y'] }, 'templates.0.layout'],
      [{ id: 't3', layout: 'text', headline: [], cta: ['y'] }, 'templates.0.headline'],
      [{ id: 't4', layout: 'text', headline: ['x'], cta: ['y'], badge: ['z'.repeat(201)] }, 'templates.0.badge.0'],
    ];
    for (const [template, path] of cases) {
      const r = await admin('/v1/admin/sites/demo/templates', 'PUT', { templates: [template] });
      expect(r.status).toBe(422);
      expect(((await r.json()) as { detail: string }).detail).toContain(path);
    }
    const config = v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json());
    expect(config.templates.map((t) => t.id)).not.toContain('t1');
  });

  it('rejects a product with a javascript: URL', async () => {
    const r = await admin('/v1/admin/sites/demo/products', 'PUT', {
      products: [{ id: 'x', name: 'x', category: 'c', brand: 'b', price: 1, imageUrl: '/i.svg', url: 'javascript:alert(1)' }],
    });
    expect(r.status).toBe(422);
    expect(((await r.json()) as { detail: string }).detail).toContain('products.0.url');
  });

  it('uploads a model as candidate, promotes it, and serves it immutable', async () => {
    const upload = tinyModel(0.02);
    const created = (await expectOk(admin('/v1/admin/sites/demo/models', 'POST', upload))) as { version: string; status: string };
    expect(created.status).toBe('candidate');
    expect(created.version).toMatch(/^[0-9a-f]{16}$/);
    const before = v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json());
    expect(before.model?.version).not.toBe(created.version);

    await expectOk(admin(`/v1/admin/sites/demo/models/${created.version}/promote`, 'POST'));
    const after = v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json());
    expect(after.model).toEqual({ version: created.version, specHash: upload.model.specHash, url: `/v1/models/${created.version}/model.json` });

    const json = await edge(after.model!.url);
    expect(json.status).toBe(200);
    expect(json.headers.get('cache-control')).toContain('immutable');
    expect(((await json.json()) as { specHash: string }).specHash).toBe(upload.model.specHash);
    const weights = await edge(`/v1/models/${created.version}/weights.bin`);
    const bytes = new Float32Array(await weights.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes[0]).toBeCloseTo(0.02);
  });

  it('rolls back to the previously serving model with one call', async () => {
    const versions: string[] = [];
    for (const fill of [0.03, 0.04]) {
      const { version } = (await expectOk(admin('/v1/admin/sites/demo/models', 'POST', tinyModel(fill)))) as { version: string };
      await expectOk(admin(`/v1/admin/sites/demo/models/${version}/promote`, 'POST'));
      versions.push(version);
    }
    const serving = async () => v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json()).model?.version;
    expect(await serving()).toBe(versions[1]);
    const back = (await expectOk(admin('/v1/admin/sites/demo/models/rollback', 'POST'))) as { version: string };
    expect(back.version).toBe(versions[0]);
    expect(await serving()).toBe(versions[0]);
  });

  it('retires a candidate: devices stop scoring it, the next one takes its slot, and it can still be promoted by hand', async () => {
    const upload = async (fill: number) => ((await expectOk(admin('/v1/admin/sites/demo/models', 'POST', tinyModel(fill)))) as { version: string }).version;
    const [a, b, c] = [await upload(0.051), await upload(0.052), await upload(0.053)];
    const listed = async () => v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json()).candidateModels.map((m) => m.version);
    expect(await listed()).toEqual([c, b]); // the two newest
    expect(await expectOk(admin(`/v1/admin/sites/demo/models/${b}/retire`, 'POST'))).toEqual({ version: b, status: 'retired' });
    expect(await listed()).toEqual([c, a]);
    // A retried call answers the same; a GET is the wrong method, not an unknown path.
    expect(await expectOk(admin(`/v1/admin/sites/demo/models/${b}/retire`, 'POST'))).toEqual({ version: b, status: 'retired' });
    expect((await admin(`/v1/admin/sites/demo/models/${b}/retire`, 'GET')).status).toBe(405);
    const unknown = await admin('/v1/admin/sites/demo/models/0123456789abcdef/retire', 'POST');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe('unknown_model');
    // The merchant's own call still serves a retired candidate; the serving model is not retired.
    await expectOk(admin(`/v1/admin/sites/demo/models/${b}/promote`, 'POST'));
    const serving = await admin(`/v1/admin/sites/demo/models/${b}/retire`, 'POST');
    expect(serving.status).toBe(409);
    expect(((await serving.json()) as { error: string }).error).toBe('model_serving');
    expect(v.parse(SiteConfigSchema, await (await edge('/v1/sites/demo/config')).json()).model?.version).toBe(b);
  });

  it('refuses a rollback when nothing served before', async () => {
    const r = await admin('/v1/admin/sites/fresh-site', 'PUT', { name: 'Fresh', allowedOrigins: [] }, 'test-fresh-admin-token-003');
    expect(r.status).toBe(200);
    const rollback = await admin('/v1/admin/sites/fresh-site/models/rollback', 'POST', undefined, 'test-fresh-admin-token-003');
    expect(rollback.status).toBe(409);
    expect(((await rollback.json()) as { error: string }).error).toBe('nothing_to_roll_back');
  });

  it('rejects a model whose weights do not match its topology', async () => {
    const upload = tinyModel();
    const r = await admin('/v1/admin/sites/demo/models', 'POST', { ...upload, weights: btoa('short') });
    expect(r.status).toBe(422);
    expect(((await r.json()) as { error: string }).error).toBe('invalid_model');
  });

  it("keeps a narrowed head's scale (headVarianceScale in (0, 1]) and refuses one outside it", async () => {
    // What the trainer records when it narrows the head of an offsets-only candidate (head-width.ts).
    for (const scale of [0, -0.5, 1.5, 100]) {
      const upload = tinyModel(0.061);
      const r = await admin('/v1/admin/sites/demo/models', 'POST', { ...upload, model: { ...upload.model, headVarianceScale: scale } });
      expect(r.status, `headVarianceScale ${scale}`).toBe(422);
      expect(((await r.json()) as { error: string }).error).toBe('invalid_model');
    }
    const upload = tinyModel(0.062);
    const { version } = (await expectOk(admin('/v1/admin/sites/demo/models', 'POST', { ...upload, model: { ...upload.model, headVarianceScale: 0.01 } }))) as {
      version: string;
    };
    const served = (await (await edge(`/v1/models/${version}/model.json`)).json()) as { headVarianceScale?: number };
    expect(served.headVarianceScale).toBe(0.01);
  });
});

describe('models shared by two sites', () => {
  beforeAll(() => seedDemoSite());

  it('lets two sites upload the same artifact, each with its own status', async () => {
    await expectOk(admin('/v1/admin/sites/other', 'PUT', { name: 'Other', allowedOrigins: [] }, OTHER_TOKEN));
    const model = tinyModel(0.07);
    const mine = (await expectOk(admin('/v1/admin/sites/demo/models', 'POST', model))) as { version: string };
    const theirs = (await expectOk(admin('/v1/admin/sites/other/models', 'POST', model, OTHER_TOKEN))) as { version: string; created: boolean };
    expect(theirs.version).toBe(mine.version);
    expect(theirs.created).toBe(true);
    await expectOk(admin(`/v1/admin/sites/other/models/${mine.version}/promote`, 'POST', undefined, OTHER_TOKEN));
    const list = (site: string, token?: string) =>
      expectOk(admin(`/v1/admin/sites/${site}/models`, 'GET', undefined, token)) as Promise<{ models: { version: string; status: string }[] }>;
    expect((await list('other', OTHER_TOKEN)).models.find((m) => m.version === mine.version)?.status).toBe('serving');
    expect((await list('demo')).models.find((m) => m.version === mine.version)?.status).toBe('candidate');
    expect((await edge(`/v1/models/${mine.version}/weights.bin`)).status).toBe(200);
  });
});
