import { describe, expect, it } from 'vitest';
import { composedMu, gdpDelta, gdpEpsilon, gdpMuFor, normalCdf } from '../../protocol/gaussian-dp.ts';
import { epsilonSpent, rdpEpsilon } from '../../protocol/privacy.ts';

describe('Gaussian differential privacy: exact accounting of Gaussian mechanisms', () => {
  it('the normal distribution function, far into its tails (standard tables)', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-0.5)).toBeCloseTo(0.3085375387, 10);
    expect(normalCdf(-1.5)).toBeCloseTo(0.0668072013, 10);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021049, 10);
    expect(normalCdf(-5) / 2.866515719e-7).toBeCloseTo(1, 8);
    expect(normalCdf(-8) / 6.220960574e-16).toBeCloseTo(1, 8);
  });

  it('pins the figures of the privacy review: one release at z = 1, delta 1e-5: 4.38 (RDP said 5.30); ten rounds of four mechanisms at z = 5, delta 1e-6: 6.40 (RDP said 7.45)', () => {
    expect(gdpEpsilon(composedMu([1]), 1e-5)).toBeCloseTo(4.377, 3);
    expect(rdpEpsilon([1], 1e-5)).toBeCloseTo(5.3, 2);
    expect(epsilonSpent([1], 1e-5).epsilon).toBeCloseTo(4.377, 3); // what the ledger spends
    const tenRounds = new Array<number>(40).fill(5);
    expect(composedMu(tenRounds)).toBeCloseTo(Math.sqrt(1.6), 12);
    expect(gdpEpsilon(composedMu(tenRounds), 1e-6)).toBeCloseTo(6.399, 3);
    expect(rdpEpsilon(tenRounds, 1e-6)).toBeCloseTo(7.45, 2);
    expect(epsilonSpent(tenRounds, 1e-6).epsilon).toBeCloseTo(6.399, 3);
  });

  it('pins the 1-GDP point of Dong, Roth and Su (1-GDP is (1, 0.127)-DP), from the normal table: Phi(-0.5) - e Phi(-1.5)', () => {
    expect(gdpDelta(1, 1)).toBeCloseTo(0.3085375387 - Math.E * 0.0668072013, 9);
    expect(gdpDelta(1, 1)).toBeCloseTo(0.127, 3);
  });

  it('epsilon and mu invert each other, delta falls as epsilon grows, and composition of equal parts is sqrt(k) mu', () => {
    for (const mu of [0.1, 0.5, 1, 2.5]) {
      const eps = gdpEpsilon(mu, 1e-6);
      expect(gdpDelta(mu, eps)).toBeLessThanOrEqual(1e-6 * (1 + 1e-9));
      expect(gdpDelta(mu, eps * 0.999)).toBeGreaterThan(1e-6);
      expect(gdpMuFor(eps, 1e-6)).toBeCloseTo(mu, 8);
    }
    expect(composedMu([2, 2, 2, 2])).toBeCloseTo(composedMu([1]), 12);
    expect(gdpEpsilon(0, 1e-6)).toBe(0);
  });

  it('cannot overflow: past epsilon 709.78 (where e^epsilon is Infinity) the account stays exact, checked against 50-digit arithmetic (mpmath)', () => {
    // Four mechanisms and the count vector's quarter at z = 0.05: mu = sqrt(4.25) / 0.05. The
    // product form said 709.78 here, and every further release passed any budget.
    expect(gdpEpsilon(Math.sqrt(4.25) / 0.05, 1e-6)).toBeCloseTo(1045.0424, 3);
    expect(gdpEpsilon(40, 1e-6)).toBeCloseTo(989.1922, 3);
    expect(gdpEpsilon(Math.sqrt(4.25) / 0.5, 1e-6)).toBeCloseTo(27.436, 3);
    // Larger still, the account keeps growing; an infinite mu is an infinite spend.
    expect(gdpEpsilon(400, 1e-6)).toBeGreaterThan(80_000);
    expect(gdpEpsilon(Number.POSITIVE_INFINITY, 1e-6)).toBe(Number.POSITIVE_INFINITY);
    expect(epsilonSpent([0.05, 0.05, 0.05, 0.05, 0.1], 1e-6).epsilon).toBeCloseTo(1045.0424, 3);
  });
});
