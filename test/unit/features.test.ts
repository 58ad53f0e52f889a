import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { CREATIVE_DIM, CROSS_DIM, crossRows, encodeCreative, encodeShopper, FEATURE_SPEC_HASH, SHOPPER_DIM } from '../../protocol/features.ts';
import { bucketOf } from '../../protocol/hash.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import { emptyProfile } from '../../protocol/profile.ts';
import { egressViolation } from '../../protocol/egress.ts';
import { ReportSchema } from '../../protocol/wire.ts';

describe('feature specification', () => {
  it('has a 16-hex-digit version hash and fixed dimensions', () => {
    expect(FEATURE_SPEC_HASH).toMatch(/^[0-9a-f]{16}$/);
    expect(encodeShopper(emptyProfile(0), { pageType: 'home', category: null, hour: 0, device: 'mobile' }, 0)).toHaveLength(SHOPPER_DIM);
    expect(encodeCreative({ category: 'hats', brand: 'X', price: 30, layout: 'banner', messageType: 'new', popularity: 0.5 }, 'hero')).toHaveLength(
      CREATIVE_DIM,
    );
  });

  it('encodes the same input to the same numbers (browser and trainer must agree)', () => {
    const c = { category: 'hats', brand: 'X', price: 30, layout: 'banner', messageType: 'new', popularity: 0.5 } as const;
    expect(Array.from(encodeCreative(c, 'hero'))).toEqual(Array.from(encodeCreative({ ...c }, 'hero')));
    const differs = Array.from(encodeCreative({ ...c, category: 'bags' }, 'hero')).some((x, i) => x !== encodeCreative(c, 'hero')[i]);
    expect(differs).toBe(true);
  });
});

describe('cross features', () => {
  const creative = (category: string, brand: string, price: number) =>
    ({ category, brand, price, layout: 'product_card', messageType: 'new', popularity: 0 }) as const;

  it("are the shares of the decayed profile on the creative's category, brand (both smoothed) and price band, and the page match", () => {
    const now = Date.UTC(2026, 0, 1);
    const profile = emptyProfile(now - 3_600_000 * 72);
    applyEvent(profile, { type: 'product_view', at: now - 3_600_000 * 72, category: 'hats', brand: 'Old', price: 30 }); // one half-life ago: half weight
    applyEvent(profile, { type: 'product_view', at: now, category: 'bags', brand: 'New', price: 30 });
    const rows = crossRows(profile, { pageType: 'product', category: 'bags', hour: 12, device: 'desktop' }, [
      creative('bags', 'New', 30),
      creative('hats', 'Old', 30),
      creative('shoes', 'None', 30),
    ]);
    expect(rows).toHaveLength(3 * CROSS_DIM);
    const row = (i: number) => Array.from(rows.subarray(i * CROSS_DIM, (i + 1) * CROSS_DIM));
    const share = (w: number) => expect.closeTo(w, 5);
    // Stored weights: hats/Old 1 (a half-life old), bags/New 2; two pseudo-events as fresh as
    // the latest (2 each) under the category and brand shares: 2/7 and 1/7. Price bands: exact.
    expect(row(0)).toEqual([share(2 / 7), share(2 / 7), share(1), 1, share(4 / 49)]);
    expect(row(1)).toEqual([share(1 / 7), share(1 / 7), share(1), 0, share(1 / 49)]);
    expect(row(2)).toEqual([0, 0, share(1), 0, 0]);
  });

  it('tell apart two brands that share a hashed bucket of the shopper vector', () => {
    const brands = Array.from({ length: 64 }, (_, i) => `brand-${i}`);
    const a = brands[0]!;
    const b = brands.find((x) => x !== a && bucketOf(x, 8) === bucketOf(a, 8))!; // 8 brand buckets: a collision among 64 is certain
    const now = Date.UTC(2026, 0, 1);
    const profile = emptyProfile(now);
    for (let i = 0; i < 3; i++) applyEvent(profile, { type: 'product_view', at: now, category: 'hats', brand: a, price: 30 });
    const rows = crossRows(profile, { pageType: 'home', category: null, hour: 12, device: 'desktop' }, [creative('hats', a, 30), creative('hats', b, 30)]);
    expect(rows[1]).toBeCloseTo(3 / 5, 6); // three views, two pseudo-events
    expect(rows[CROSS_DIM + 1]).toBe(0);
  });

  it('grow with evidence: one view of a brand is not a certainty, ten nearly are', () => {
    const now = Date.UTC(2026, 0, 1);
    const brandShare = (views: number) => {
      const profile = emptyProfile(now);
      for (let i = 0; i < views; i++) applyEvent(profile, { type: 'product_view', at: now, category: 'hats', brand: 'A', price: 30 });
      return crossRows(profile, { pageType: 'home', category: null, hour: 12, device: 'desktop' }, [creative('hats', 'A', 30)])[1]!;
    };
    expect(brandShare(1)).toBeCloseTo(1 / 3, 6);
    expect(brandShare(10)).toBeCloseTo(10 / 12, 6);
  });

  it('are zero for an empty profile (no division by zero)', () => {
    const rows = crossRows(emptyProfile(0), { pageType: 'home', category: null, hour: 0, device: 'mobile' }, [creative('hats', 'X', 30)]);
    expect(Array.from(rows)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('device egress declaration', () => {
  const edge = 'http://edge.test';
  const report = { v: 1, reportId: crypto.randomUUID(), round: 3, modelVersion: null, outcomes: [{ creativeId: 'c1', impressions: 1, clicks: 0 }] };

  it('allows the declared requests', () => {
    expect(egressViolation('GET', new URL(`${edge}/v1/sites/demo/config`), null)).toBeNull();
    expect(egressViolation('POST', new URL(`${edge}/v1/sites/demo/reports`), new TextEncoder().encode(JSON.stringify(report)))).toBeNull();
    expect(v.is(ReportSchema, report)).toBe(true);
  });

  it('flags undeclared paths, query strings, and report bodies with anything extra', () => {
    expect(egressViolation('GET', new URL(`${edge}/v1/track?uid=1`), null)).toContain('query string');
    expect(egressViolation('POST', new URL(`${edge}/v1/sites/demo/events`), new TextEncoder().encode('{}'))).toContain('undeclared');
    expect(
      egressViolation('POST', new URL(`${edge}/v1/sites/demo/reports`), new TextEncoder().encode(JSON.stringify({ ...report, productId: 'p1' }))),
    ).toContain('body');
    expect(
      egressViolation('POST', new URL(`${edge}/v1/sites/demo/reports`), new TextEncoder().encode(JSON.stringify({ ...report, at: Date.now() }))),
    ).toContain('body');
  });

  it('takes a report token in the Authorization header of a report, and nothing else in any header; token requests are exactly a TokenRequest', () => {
    const body = new TextEncoder().encode(JSON.stringify(report));
    const reports = new URL(`${edge}/v1/sites/demo/reports`);
    expect(egressViolation('POST', reports, body, { authorization: 'PrivateToken token=AAAA', 'content-type': 'text/plain' })).toBeNull();
    expect(egressViolation('POST', reports, body, { authorization: 'Bearer user-42' })).toContain('Authorization');
    expect(egressViolation('POST', reports, body, { cookie: 'uid=42' })).toContain('cookie');
    expect(egressViolation('GET', new URL(`${edge}/v1/sites/demo/config`), null, { authorization: 'PrivateToken token=AAAA' })).toContain('Authorization');
    const issuer = new URL(`${edge}/v1/sites/demo/rounds/12/token-request`);
    const type = { 'content-type': 'application/private-token-request' };
    expect(egressViolation('POST', issuer, new Uint8Array(259), type)).toBeNull();
    expect(egressViolation('POST', issuer, new Uint8Array(300), type)).toContain('259');
    expect(egressViolation('POST', issuer, new Uint8Array(259), { 'content-type': 'text/plain' })).toContain('private-token-request');
    expect(egressViolation('OPTIONS', reports, null)).toBeNull();
    expect(egressViolation('OPTIONS', reports, new Uint8Array(3))).toContain('unexpected body');
    expect(egressViolation('OPTIONS', new URL(`${edge}/v1/sites/demo/config`), null)).toContain('undeclared');
  });
});
