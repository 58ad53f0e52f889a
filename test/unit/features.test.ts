import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { CREATIVE_DIM, encodeCreative, encodeShopper, FEATURE_SPEC_HASH, SHOPPER_DIM } from '../../protocol/features.ts';
import { emptyProfile } from '../../protocol/profile.ts';
import { egressViolation } from '../../protocol/egress.ts';
import { ReportSchema } from '../../protocol/wire.ts';

describe('feature specification', () => {
  it('has a 16-hex-digit version hash and fixed dimensions', () => {
    expect(FEATURE_SPEC_HASH).toMatch(/^[0-9a-f]{16}$/);
    expect(encodeShopper(emptyProfile(0), { pageType: 'home', category: null, hour: 0, device: 'mobile' }, 0)).toHaveLength(SHOPPER_DIM);
    expect(encodeCreative({ category: 'hats', brand: 'X', price: 30, layout: 'banner', messageType: 'new', popularity: 0.5 }, 'hero')).toHaveLength(CREATIVE_DIM);
  });

  it('encodes the same input to the same numbers (browser and trainer must agree)', () => {
    const c = { category: 'hats', brand: 'X', price: 30, layout: 'banner', messageType: 'new', popularity: 0.5 } as const;
    expect(Array.from(encodeCreative(c, 'hero'))).toEqual(Array.from(encodeCreative({ ...c }, 'hero')));
    const differs = Array.from(encodeCreative({ ...c, category: 'bags' }, 'hero')).some((x, i) => x !== encodeCreative(c, 'hero')[i]);
    expect(differs).toBe(true);
  });
});

describe('device egress declaration', () => {
  const edge = 'http://edge.test';
  const report = { v: 1, reportId: crypto.randomUUID(), round: 3, modelVersion: null, outcomes: [{ creativeId: 'c1', impressions: 1, clicks: 0 }] };

  it('allows the declared requests', () => {
    expect(egressViolation('GET', new URL(`${edge}/v1/sites/demo/config`), null)).toBeNull();
    expect(egressViolation('POST', new URL(`${edge}/v1/sites/demo/reports`), JSON.stringify(report))).toBeNull();
    expect(v.is(ReportSchema, report)).toBe(true);
  });

  it('flags undeclared paths, query strings, and report bodies with anything extra', () => {
    expect(egressViolation('GET', new URL(`${edge}/v1/track?uid=1`), null)).toContain('query string');
    expect(egressViolation('POST', new URL(`${edge}/v1/sites/demo/events`), '{}')).toContain('undeclared');
    expect(egressViolation('POST', new URL(`${edge}/v1/sites/demo/reports`), JSON.stringify({ ...report, productId: 'p1' }))).toContain('body');
    expect(egressViolation('POST', new URL(`${edge}/v1/sites/demo/reports`), JSON.stringify({ ...report, at: Date.now() }))).toContain('body');
  });
});
