import { beforeAll, describe, expect, it } from 'vitest';
import { admin, DEMO_TOKEN, edge, handle, seedDemoSite, SHOP_ORIGIN } from './edge-helpers.ts';

describe('request bodies', () => {
  beforeAll(() => seedDemoSite());

  it('a report without a body, or with a Content-Length over the limit, is a 4xx with a reason', async () => {
    const noBody = await edge('/v1/sites/demo/reports', { method: 'POST', headers: { 'content-type': 'text/plain', origin: SHOP_ORIGIN } });
    expect(noBody.status).toBe(400);
    expect(((await noBody.json()) as { error: string }).error).toBe('malformed_json');
    const declaredTooLarge = await edge('/v1/sites/demo/reports', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'content-length': '999999' },
      body: '{}',
    });
    expect(declaredTooLarge.status).toBeGreaterThanOrEqual(400);
    expect(declaredTooLarge.status).toBeLessThan(500);
  });

  it('deeply nested JSON is refused as invalid, not a crash', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = await edge('/v1/sites/demo/reports', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: deep });
    expect([400, 422]).toContain(r.status);
  });
});

describe('rate limits beyond reports', () => {
  beforeAll(() => seedDemoSite());

  /**
   * Requests from one client address until the first 429, at most `2 * limit + 1`: the limiter
   * counts per wall-clock minute, and a flood that crosses into the next minute starts a new
   * count there, so at most two windows can pass `limit` each and the next request must be
   * refused. What holds whatever the clock: no 429 before `limit` successes, and one at the latest then.
   */
  async function floodUntilRefused(limit: number, request: () => Request): Promise<{ before: number[]; refused: Response | undefined }> {
    const before: number[] = [];
    for (let i = 0; i <= 2 * limit; i++) {
      const r = await handle(request());
      if (r.status === 429) return { before, refused: r };
      before.push(r.status);
    }
    return { before, refused: undefined };
  }

  it('config reads: 600 a minute per client, then 429 with a reason; another client goes on', async () => {
    const read = (address: string) => new Request('http://edge.test/v1/sites/demo/config', { headers: { 'cf-connecting-ip': address } });
    const { before, refused } = await floodUntilRefused(600, () => read('192.0.2.21'));
    expect(before.length).toBeGreaterThanOrEqual(600);
    expect(before.every((s) => s === 200)).toBe(true);
    expect(refused?.status).toBe(429);
    expect(await refused!.json()).toMatchObject({ error: 'rate_limited' });
    expect((await handle(read('198.51.100.21'))).status).toBe(200);
  });

  it('admin API: 300 a minute per site and client, counted before the token is checked', async () => {
    const guess = (address: string) =>
      new Request('http://edge.test/v1/admin/sites/demo/rounds/current', { headers: { 'cf-connecting-ip': address, authorization: 'Bearer a-wrong-guess' } });
    const { before, refused } = await floodUntilRefused(300, () => guess('192.0.2.22'));
    expect(before.length).toBeGreaterThanOrEqual(300);
    expect(before.every((s) => s === 403 || s === 401)).toBe(true);
    expect(refused?.status).toBe(429);
    // The site's own admin, from elsewhere, is not locked out.
    const own = new Request('http://edge.test/v1/admin/sites/demo/rounds/current', {
      headers: { 'cf-connecting-ip': '198.51.100.22', authorization: `Bearer ${DEMO_TOKEN}` },
    });
    expect((await handle(own)).status).toBe(200);
  });
});

describe('health', () => {
  it('answers GET with ok and touches nothing; other methods are 405', async () => {
    const r = await edge('/v1/health');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
    expect((await edge('/v1/health', { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('answers 405 on every path a route takes, asked with another method, and 404 on a path none takes', async () => {
    const known = [
      '/v1/admin/sites/demo/catalog',
      '/v1/admin/sites/demo/rounds',
      '/v1/admin/',
      '/v1/admin/assets/app.js',
      '/v1/models/0123456789abcdef/model.json',
      '/v1/sites/demo/rounds/3/token-key',
    ];
    // Admin paths answer only with the site's token (401 before any routing otherwise).
    const ask = (path: string) => (path.startsWith('/v1/admin/sites/') ? admin(path, 'DELETE') : edge(path, { method: 'DELETE' }));
    for (const path of known) {
      const r = await ask(path);
      expect([path, r.status]).toEqual([path, 405]);
      expect(((await r.json()) as { error: string }).error).toBe('method_not_allowed');
    }
    for (const path of ['/v1/admin/sites/demo/nothing', '/v1/sites/demo/nothing', '/v1/healthz', '/v1/admin/assets/a/b']) {
      expect([path, (await ask(path)).status]).toEqual([path, 404]);
    }
  });
});
