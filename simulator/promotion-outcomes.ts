/**
 * `npx tsx simulator/promotion-outcomes.ts [--runs docs/lab/runs]`: does the gate's promise hold?
 * For every promotion in the recorded simulation runs, the interval the gate promoted on (the
 * paired difference against the serving model, click-rate points) against what the next round
 * measured: the served model's click rate over the frozen first model's, minus the same in the
 * round of the promotion (the frozen model's change is the world's drift, taken out). Prints
 * each promotion and how many realized changes fell below, inside and above their intervals.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface RoundFigures {
  round: number;
  ctr: number;
  frozenCtr?: number;
  training: string;
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: 'docs/lab/runs' } } });
const dir = path.resolve(import.meta.dirname, '..', values.runs);

const promotions: { run: string; round: number; estimate: number; lower: number; upper: number; realized: number }[] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  let rounds: RoundFigures[];
  try {
    const run = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { rounds?: RoundFigures[]; result?: { rounds?: RoundFigures[] } };
    rounds = run.result?.rounds ?? run.rounds ?? [];
  } catch {
    continue; // a run file cut short: nothing to read
  }
  for (let i = 0; i + 1 < rounds.length; i++) {
    const [now, next] = [rounds[i]!, rounds[i + 1]!];
    if (now.frozenCtr === undefined || next.frozenCtr === undefined) continue;
    // "gate: promoted 1c3c20fb... (..., 1c3c20 better +1.0 [+0.2, +1.8], ...)"
    const promoted = /gate: promoted ([0-9a-f]{6})[0-9a-f]* \(.*?\1 better ([+-][\d.]+) \[([+-][\d.]+), ([+-][\d.]+)\]/.exec(now.training);
    if (!promoted) continue;
    const [estimate, lower, upper] = [promoted[2], promoted[3], promoted[4]].map(Number) as [number, number, number];
    const realized = 100 * (next.ctr - next.frozenCtr - (now.ctr - now.frozenCtr));
    promotions.push({ run: file.replace(/^simulation-|\.json$/g, ''), round: now.round, estimate, lower, upper, realized });
  }
}

const sign = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
for (const p of promotions)
  console.log(`${p.run}  after round ${p.round}: promoted at ${sign(p.estimate)} [${sign(p.lower)}, ${sign(p.upper)}], next round ${sign(p.realized)}`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const below = promotions.filter((p) => p.realized < p.lower).length;
const above = promotions.filter((p) => p.realized > p.upper).length;
console.log(
  `${promotions.length} promotions: next round ${sign(mean(promotions.map((p) => p.realized)))} click-rate points over the frozen model's change on average ` +
    `(promoted at ${sign(mean(promotions.map((p) => p.estimate)))}); below the interval ${below}, inside ${promotions.length - below - above}, above ${above}; ` +
    `a loss in ${promotions.filter((p) => p.realized < 0).length}`,
);
