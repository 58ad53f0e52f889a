import { beforeAll, describe, expect, it } from 'vitest';
import { edge, seedDemoSite, SHOP_ORIGIN } from './edge-helpers.ts';

describe('request bodies', () => {
  beforeAll(() => seedDemoSite());

  it('a report without a body, or with a Content-Length over the limit, is a 4xx with a reason', async () => {
    const noBody = await edge('/v1/sites/demo/reports', { method: 'POST', headers: { 'content-type': 'text/plain', origin: SHOP_ORIGIN } });
    expect(noBody.status).toBe(400);
    expect(((await noBody.json()) as { error: string }).error).toBe('malformed_json');
    const declaredTooLarge = await edge('/v1/sites/demo/reports', { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': '999999' }, body: '{}' });
    expect(declaredTooLarge.status).toBeGreaterThanOrEqual(400);
    expect(declaredTooLarge.status).toBeLessThan(500);
  });

  it('deeply nested JSON is refused as invalid, not a crash', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r = await edge('/v1/sites/demo/reports', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: deep });
    expect([400, 422]).toContain(r.status);
  });
});
