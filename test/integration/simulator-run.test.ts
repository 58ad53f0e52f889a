/**
 * The simulator end to end at a small size: shoppers on the real engine, the edge in wrangler
 * dev, one round released and the trainer run after it. (The README's figures come from
 * `npm run simulate` at larger sizes; this checks the whole path works and measures sensibly.)
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import { DEFAULT_SIMULATION, runSimulation } from '../../simulator/simulation.ts';

describe('npm run simulate', () => {
  it('runs a round on the real engine, edge and trainer, and measures every policy on the same situations', async () => {
    const lines: string[] = [];
    const result = await runSimulation({ ...DEFAULT_SIMULATION, shoppers: 40, rounds: 1, minCohort: 20, epsilon: 8, port: 8823, log: (l) => lines.push(l) });
    expect(result.rounds).toHaveLength(1);
    const [r] = result.rounds;
    expect(r!.decisions).toBe(40 * DEFAULT_SIMULATION.decisions);
    // The oracle is an upper bound of every policy, in expectation, situation by situation.
    expect(r!.oracleCtr).toBeGreaterThanOrEqual(r!.ctr);
    expect(r!.oracleCtr).toBeGreaterThanOrEqual(r!.randomCtr);
    expect(r!.oracleCtr).toBeGreaterThanOrEqual(r!.popularityCtr);
    expect(r!.regret).toBeCloseTo(r!.oracleCtr - r!.ctr, 12);
    for (const x of [r!.ctr, r!.randomCtr, r!.realizedCtr, r!.conversionRate]) expect(x).toBeGreaterThanOrEqual(0);
    // The round was released (40 reports >= K = 20) and the ledger spent what one of its ten... here one round of four mechanisms.
    expect(r!.epsilon).toBeGreaterThan(0);
    expect(r!.epsilon).toBeLessThanOrEqual(8 * 1.0001);
    expect(r!.training).toMatch(/^(gate: (promoted|kept the serving model) .*; fitted on rounds|kept the model: )/);
    // The released round's view on the merchant's dashboard: the model that served, its rounds.
    expect(r!.dashboardLift).toMatchObject({ rounds: [expect.any(Number)] });
    expect(r!.dashboardLift!.model).toMatch(/^[0-9a-f]{16}$/);
    const { world, ...figures } = result.summary;
    expect(world).toBe('today');
    expect(Object.values(figures).every((x) => typeof x === 'number' && Number.isFinite(x))).toBe(true);
    // The frozen first model is scored on the same situations, and the oracle bounds it too.
    expect(r!.oracleCtr).toBeGreaterThanOrEqual(r!.frozenCtr);
    expect(r!.frozenCtr).toBeGreaterThan(0);
    expect(result.summary.ctr_vs_frozen).toBeCloseTo(r!.ctr / r!.frozenCtr, 12);
    expect(result.summary.ctr_vs_oracle).toBeLessThanOrEqual(1);
    // The head bound came from the timing devices' norms: two decisions of |phi|^2 about 3.5 each
    // (unit-scaled towers), so near 7-11, below the default of 40 made for ten decisions.
    expect(result.summary.head_clip).toBeGreaterThanOrEqual(3);
    expect(result.summary.head_clip).toBeLessThan(DEFAULT_PRIVACY.headClip);
    // The off-policy bound, chosen from the timing devices too: at most the default.
    expect(result.summary.ope_clip).toBeGreaterThanOrEqual(1);
    expect(result.summary.ope_clip).toBeLessThanOrEqual(DEFAULT_PRIVACY.opeClip);
    expect(lines.some((l) => /^devices: [\d.]+ ms per shopper's visit .* head bound \d+; off-policy norms .* off-policy bound \d+$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('round 1:'))).toBe(true);
  }, 300_000);
});
