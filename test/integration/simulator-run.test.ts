/**
 * The simulator end to end at a small size: shoppers on the real engine, the edge in wrangler
 * dev, one round released and the trainer run after it. (The README's figures come from
 * `npm run simulate` at larger sizes; this checks the whole path works and measures sensibly.)
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import { DEFAULT_SIMULATION, runSimulation } from '../../simulator/simulation.ts';
import { runNoise } from '../../simulator/simulation-options.ts';
import { epsilonOfRounds } from '../../protocol/budget-pacing.ts';

describe('npm run simulate', () => {
  it('runs a round on the real engine, edge and trainer, and measures every policy on the same situations', async () => {
    const lines: string[] = [];
    // The largest budget a site may set, paced over a period of daily rounds: noise 3.6, so the
    // noised count of 100 reports (sd 14) passes K = 2 by 7 deviations.
    const result = await runSimulation({ ...DEFAULT_SIMULATION, shoppers: 100, rounds: 1, minCohort: 2, epsilon: null, port: 8823, log: (l) => lines.push(l) });
    expect(result.rounds).toHaveLength(1);
    const [r] = result.rounds;
    expect(r!.decisions).toBe(100 * DEFAULT_SIMULATION.decisions);
    // The oracle is an upper bound of every policy, in expectation, situation by situation.
    expect(r!.oracleCtr).toBeGreaterThanOrEqual(r!.ctr);
    expect(r!.oracleCtr).toBeGreaterThanOrEqual(r!.randomCtr);
    expect(r!.oracleCtr).toBeGreaterThanOrEqual(r!.popularityCtr);
    expect(r!.regret).toBeCloseTo(r!.oracleCtr - r!.ctr, 12);
    for (const x of [r!.ctr, r!.randomCtr, r!.realizedCtr, r!.conversionRate]) expect(x).toBeGreaterThanOrEqual(0);
    // The round was released and the ledger spent what one of a period's 30 paced rounds costs: a thirtieth of the budget's mu^2.
    expect(r!.epsilon).toBeGreaterThan(0);
    expect(r!.epsilon).toBeCloseTo(epsilonOfRounds(1, runNoise({ epsilon: null })), 6);
    expect(r!.training).toMatch(
      /^(gate: (promoted|kept the serving model) .*; (last layer|offsets from rounds|no new candidate: )|kept the model: |no new candidate: )/,
    );
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
    expect(
      lines.some((l) =>
        /^devices: [\d.]+ ms per shopper's visit .* head bound \d+; off-policy norms .* off-policy bound \d+; offsets norms .* offsets bound [\d.]+$/.test(l),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith('round 1:'))).toBe(true);
  }, 300_000);

  it('an interrupted run (Ctrl-C) stops its edge too: the port is free again', async () => {
    const port = 8824;
    const root = path.resolve(import.meta.dirname, '../..');
    // Node itself, not the tsx wrapper (which relays signals to a child of its own): the signal reaches the simulator as Ctrl-C would.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'simulator/cli.ts', '--shoppers', '20', '--rounds', '1', '--min-cohort', '10', '--port', String(port)],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Interrupted once the edge answers and the devices are running (the calibration line).
    const deadline = Date.now() + 120_000;
    while (!/^devices: /m.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the simulator did not start its devices:\n${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).ok).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    // wrangler and its workerd children are gone with it: nothing answers on the port.
    let free = false;
    for (let i = 0; i < 50 && !free; i++) {
      free = await fetch(`http://127.0.0.1:${port}/v1/health`).then(
        () => false,
        () => true,
      );
      if (!free) await new Promise((r) => setTimeout(r, 200));
    }
    expect(free).toBe(true);
  }, 180_000);
});
