/**
 * `npm run simulate:worlds -- [--shoppers 2000] [--rounds 10] [--epsilon 8] [--seeds 1,2,3]
 * [--worlds all|a,b] [--promote gate|always] [--bounds calibrated|defaults] [--parallel 1] [--port 8840] [--out docs/lab/runs]`: the learning table. Runs the
 * simulator (cli.ts, --json) once per world and seed, `--parallel` at a time (each run's device
 * threads use every core already: one at a time is the fastest on two cores), saves
 * each run's JSON in `--out` as simulation-<shoppers>-eps<epsilon>-<world>-seed-<seed>-<commit>.json
 * (`-always` before the commit for `--promote always`: every fit served at once, the ceiling of what
 * the gate's delay costs; `-defaults` for `--bounds defaults`: a new site's clipping bounds)
 * with the command that made it (its chart in docs/lab/charts/), and prints per world the mean over seeds of the last round's
 * share of the oracle, its points over the frozen first model, and the worst round below it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SIMULATION, invalidOptions } from './simulation-options.ts';
import type { SimulationOptions } from './simulation-options.ts';
import { WORLDS } from './worlds.ts';

interface Summary {
  oracle: number;
  overFrozen: number;
  worstBelow: number;
  frozen: number;
  /** Points of oracle share over the frozen first model at rounds 5 and 15 (null when the run was shorter). */
  at5: number | null;
  at15: number | null;
  /** The first round after which the gate promoted a candidate (null: never). */
  promotedAfter: number | null;
}

const { values } = parseArgs({
  options: {
    shoppers: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '10' },
    epsilon: { type: 'string', default: '8' },
    seeds: { type: 'string', default: '1,2,3' },
    worlds: { type: 'string', default: 'all' },
    promote: { type: 'string', default: 'gate' },
    bounds: { type: 'string', default: 'calibrated' },
    parallel: { type: 'string', default: '1' },
    /** The first run's edge port; lane k uses port + k (another table at once needs another base). */
    port: { type: 'string', default: '8840' },
    out: { type: 'string', default: 'docs/lab/runs' },
  },
});
const root = path.resolve(import.meta.dirname, '..');
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
const worlds = values.worlds === 'all' ? Object.keys(WORLDS) : values.worlds.split(',');
for (const w of worlds) if (!WORLDS[w]) throw new Error(`--worlds: ${w} is not a world (${Object.keys(WORLDS).join(', ')})`);
// The simulator's own check of --promote and --bounds, before any run (they also name the run files).
const refused = invalidOptions({
  ...DEFAULT_SIMULATION,
  promote: values.promote as SimulationOptions['promote'],
  bounds: values.bounds as SimulationOptions['bounds'],
});
if (refused) throw new Error(refused);
const variant = `${values.promote === 'always' ? '-always' : ''}${values.bounds === 'defaults' ? '-defaults' : ''}`;
const seeds = values.seeds.split(',').map(Number);
const parallel = Math.max(1, Number(values.parallel));
const out = path.resolve(root, values.out);
mkdirSync(out, { recursive: true });

const jobs = worlds.flatMap((world) => seeds.map((seed) => ({ world, seed })));
const results = new Map<string, Summary>();

function fileOf(world: string, seed: number): string {
  return path.join(out, `simulation-${values.shoppers}-eps${values.epsilon}-${world}-seed-${seed}${variant}-${commit}.json`);
}

function summarize(file: string): Summary {
  const run = JSON.parse(readFileSync(file, 'utf8')) as {
    result: {
      summary: { ctr_vs_oracle: number; oracle_points_over_frozen: number; worst_points_below_frozen: number; frozen_vs_oracle: number };
      rounds: { ctr: number; frozenCtr: number; oracleCtr: number; training: string }[];
    };
  };
  const s = run.result.summary;
  const points = (i: number) => {
    const r = run.result.rounds[i];
    return r ? (100 * (r.ctr - r.frozenCtr)) / r.oracleCtr : null;
  };
  const promoted = run.result.rounds.findIndex((r) => /gate: promoted/.test(r.training));
  return {
    oracle: 100 * s.ctr_vs_oracle,
    overFrozen: s.oracle_points_over_frozen,
    worstBelow: s.worst_points_below_frozen,
    frozen: 100 * s.frozen_vs_oracle,
    at5: points(4),
    at15: points(14),
    promotedAfter: promoted < 0 ? null : promoted + 1,
  };
}

async function runOne(world: string, seed: number, port: number): Promise<void> {
  const file = fileOf(world, seed);
  if (existsSync(file)) {
    results.set(`${world}/${seed}`, summarize(file));
    return;
  }
  const args = [
    'simulator/cli.ts',
    '--shoppers',
    values.shoppers,
    '--rounds',
    values.rounds,
    '--epsilon',
    values.epsilon,
    '--seed',
    String(seed),
    '--world',
    world,
    '--port',
    String(port),
    '--chart',
    path.join(root, 'docs', 'lab', 'charts', `simulation-ctr-${values.shoppers}-eps${values.epsilon}-${world}-seed-${seed}${variant}-${commit}.svg`),
    '--promote',
    values.promote,
    '--bounds',
    values.bounds,
    '--json',
  ];
  const command = `npx tsx ${args.join(' ')}`;
  const started = Date.now();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${command}: exit ${code}`))));
  });
  const last = stdout.trim().split('\n').at(-1)!;
  writeFileSync(file, `${JSON.stringify({ command, commit, minutes: Math.round((Date.now() - started) / 6000) / 10, result: JSON.parse(last) })}\n`);
  results.set(`${world}/${seed}`, summarize(file));
  console.error(`${world} seed ${seed}: ${summarize(file).oracle.toFixed(1)}% of the oracle (${((Date.now() - started) / 60000).toFixed(1)} min)`);
}

let next = 0;
await Promise.all(
  Array.from({ length: Math.min(parallel, jobs.length) }, async (_, lane) => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await runOne(job.world, job.seed, Number(values.port) + lane);
    }
  }),
);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const signed = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}`);
const meanOf = (xs: (number | null)[]) => (xs.some((x) => x === null) ? null : mean(xs as number[]));
console.log(
  `| world | last round, share of oracle (mean of seeds ${seeds.join(', ')}) | frozen first model | points over frozen: round 5 / 15 / last | worst round below frozen | gate's first promotion, per seed | per seed (share / over frozen) |`,
);
console.log('|---|---|---|---|---|---|---|');
for (const world of worlds) {
  const rs = seeds.map((s) => results.get(`${world}/${s}`)!);
  console.log(
    `| ${world} | ${mean(rs.map((r) => r.oracle)).toFixed(1)}% | ${mean(rs.map((r) => r.frozen)).toFixed(1)}% | ${signed(meanOf(rs.map((r) => r.at5)))} / ${signed(meanOf(rs.map((r) => r.at15)))} / ${signed(mean(rs.map((r) => r.overFrozen)))} | ${Math.max(...rs.map((r) => r.worstBelow)).toFixed(1)} | ${rs.map((r) => (r.promotedAfter === null ? 'never' : `after round ${r.promotedAfter}`)).join(', ')} | ${rs.map((r) => `${r.oracle.toFixed(1)} / ${signed(r.overFrozen)}`).join('; ')} |`,
  );
}
