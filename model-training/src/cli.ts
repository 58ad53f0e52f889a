/**
 * vitrine-train: the trainer's command line (`npm run train -- <command>`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_FIT } from './fit-two-tower.ts';
import { runOffline } from './offline-obd.ts';
import { progress } from './progress.ts';
import { bootstrapSiteModel } from './bootstrap-model.ts';
import { EdgeAdminClient, EdgeError } from './edge-admin-client.ts';
import { NotEnoughSignal } from './round-statistics.ts';
import { DEFAULT_ROUND_FIT, evaluatePulled, fitFromRounds, fitOptionsProblem, promoteIfBetter, publishCandidate } from './round-training.ts';
import { pullRounds, planPull, trainerPaths } from './round-pull.ts';
import { COUNT_MECHANISMS } from '../../protocol/privacy.ts';
import type { TrainerPaths } from './round-pull.ts';
import { fitSummary } from './fit-summary.ts';
import { feedImportText, importFeed } from './feed-import.ts';

const USAGE = `usage: vitrine-train <command> [options]

commands:
  bootstrap         train a site's first model on synthetic shoppers over its current candidates,
                    upload it, and serve it if no usable model serves yet
  pull              read the last --lookback closed rounds; each one that reached the site's
                    minimum cohort is released (noised; this spends privacy budget) and saved;
                    it says first what it will spend, and asks for --yes above a tenth of the period
  fit               a candidate: the serving model with its last layer updated exactly by the
                    pulled rounds' statistics (refused when the noise drowns them) and one
                    federated-averaging step of its towers from the devices' gradients
  publish [VERSION] upload a fitted candidate (default: the latest fit) as a candidate model;
                    devices then evaluate it beside every decision of the serving model
  evaluate          estimate each published candidate's click rate off-policy on the pulled
                    rounds (self-normalized IPS, 95% interval) against the serving model's
  promote VERSION   serve VERSION (the merchant's call, whatever the estimates say)
  promote --auto    serve the candidate shown better than the serving model on the same decisions
                    (the difference's anytime-valid lower bound above zero), if there is one
                    (exit code 4 when none qualifies); then stops evaluating the candidates
                    behind the leader (the leader stays scored beside the next fit)
  rollback          serve the previous serving model again
  ledger            the site's privacy ledger: epsilon spent this period, the budget and when it renews, counted and released rounds
  import-feed FILE  upload a Google Merchant Center feed (its XML or TSV) as the site's products;
                    every row refused is listed with its line, attribute and reason
                    [--dry-run] [--category-level N: product_type's level that is the category, default 1]
  offline           train the model from a logged bandit feedback file and estimate the learned
                    policy off-policy (IPS, SNIPS, DR with 95% intervals) on its later part;
                    --logs FILE --items FILE --format obd [--check-logs FILE] [--train-share S]

options:
  --edge URL        the edge worker (default $VITRINE_EDGE or http://127.0.0.1:8787)
  --site ID         the site (default $VITRINE_SITE or demo)
  --token TOKEN     the site's admin token (default $VITRINE_ADMIN_TOKEN)
  --state DIR       where pulled rounds and candidates are kept (default .vitrine)
  --lookback N      rounds pull looks back over (default 24)
  --examples N      bootstrap: synthetic impressions to train on (default 40000)
  --min-signal R    fit: the pooled example count must be at least R noise deviations (default 10)
  --tower-rate R    fit: learning rate of the towers' step (default 0.5; 0 keeps the towers)
  --carry C         fit: share of the serving model's evidence kept, above 0 to 1 (default 0.7;
                    below 1 the model follows tastes that drift)
  --auto            promote: only a candidate whose evaluation beats the serving model
  --logs FILE       offline: the log (Open Bandit Dataset format: men.csv)
  --items FILE      offline: the item features (item_context.csv)
  --format obd      offline: the log's format (obd is the one supported)
  --check-logs FILE offline: another policy's log in the same format; its value is estimated
                    from --logs (its action frequencies per position as its policy) beside its CTR
  --train-share S   offline: share of the log, earliest first, to train on (default 0.7)
  --yes             pull: spend more than a tenth of the period's budget in one pull
  --dry-run         import-feed: read and check the feed, upload nothing
  --category-level N  import-feed: which level of product_type is the category (default 1)
  --json            print the result as one JSON object
`;

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      edge: { type: 'string', default: process.env.VITRINE_EDGE ?? 'http://127.0.0.1:8787' },
      site: { type: 'string', default: process.env.VITRINE_SITE ?? 'demo' },
      token: { type: 'string', default: process.env.VITRINE_ADMIN_TOKEN },
      state: { type: 'string', default: '.vitrine' },
      lookback: { type: 'string', default: '24' },
      examples: { type: 'string', default: '40000' },
      'min-signal': { type: 'string', default: '10' },
      'tower-rate': { type: 'string', default: String(DEFAULT_ROUND_FIT.towerRate) },
      carry: { type: 'string', default: String(DEFAULT_ROUND_FIT.carry) },
      auto: { type: 'boolean', default: false },
      logs: { type: 'string' },
      items: { type: 'string' },
      format: { type: 'string', default: 'obd' },
      'check-logs': { type: 'string' },
      'train-share': { type: 'string', default: '0.7' },
      json: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'category-level': { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

type Options = ReturnType<typeof parseOptions>['values'];

/** What a command that talks to the edge is given. */
interface CommandContext {
  values: Options;
  argument: string | undefined;
  client: EdgeAdminClient;
  paths: TrainerPaths;
  site: string;
  print: (result: object, text: string) => void;
  log: (line: string) => void;
}

async function bootstrapCommand({ values, client, print, log }: CommandContext): Promise<number> {
  const examples = Number(values.examples);
  if (!Number.isInteger(examples) || examples < 1000 || examples > 2_000_000) {
    process.stderr.write('vitrine-train: --examples must be a whole number from 1000 to 2000000\n');
    return 2;
  }
  const version = await bootstrapSiteModel(client, { examples, cacheDir: `${values.state}/models`, log });
  print({ version }, version);
  return 0;
}

async function pullCommand({ values, client, paths, print }: CommandContext): Promise<number> {
  const lookback = Number(values.lookback);
  if (!Number.isInteger(lookback) || lookback < 1 || lookback > 1000) {
    process.stderr.write('vitrine-train: --lookback must be a whole number from 1 to 1000\n');
    return 2;
  }
  // Say what it will spend before spending it: a pull charging more than a tenth of the period waits for --yes.
  const plan = await planPull(client, paths, lookback);
  if (plan.large && !values.yes) {
    process.stderr.write(
      `vitrine-train: pull would count ${plan.rounds.length} round(s) (${plan.rounds.join(', ')}), up to epsilon ${plan.epsilon.toFixed(2)} ` +
        `of the period's ${plan.budget} (${plan.spent.toFixed(2)} spent): more than a tenth of the budget. ` +
        'Run it again with --yes to spend it, or with a smaller --lookback.\n',
    );
    return 5;
  }
  const r = await pullRounds(client, paths, lookback, values.json);
  const after = (await client.privacy()).epsilon;
  print(
    { ...r, plan, spent: { before: plan.spent, after } },
    [
      `privacy budget: ${plan.spent.toFixed(2)} -> ${after.toFixed(2)} of ${plan.budget} spent in this period`,
      `released and saved: ${r.released.length ? r.released.join(', ') : 'none'}`,
      `counted below the minimum cohort (kept back by the edge; each cost its noised count): ${r.belowCohort.length ? r.belowCohort.join(', ') : 'none'}`,
      `pulled before: ${r.alreadyPulled.length}`,
      ...(r.budgetExhausted ? [`stopped: ${r.budgetExhausted}`] : []),
    ].join('\n'),
  );
  return r.budgetExhausted ? 3 : 0;
}

async function fitCommand({ values, client, paths, site, print }: CommandContext): Promise<number> {
  const options = { minSignal: Number(values['min-signal']), towerRate: Number(values['tower-rate']), carry: Number(values.carry) };
  const problem = fitOptionsProblem(options);
  if (problem) {
    process.stderr.write(`vitrine-train: ${problem}\n`);
    return 2;
  }
  const r = await fitFromRounds(client, paths, site, options);
  print(r, `candidate ${r.version} of model ${r.base}: ${fitSummary(r)}; publish it with: vitrine-train publish`);
  return 0;
}

async function evaluateCommand({ client, paths, print }: CommandContext): Promise<number> {
  const r = await evaluatePulled(client, paths);
  const lines = r.evaluations.length
    ? r.evaluations.map((e) => `${e.candidate}: ${e.verdict} — ${e.reason} (rounds ${e.rounds.join(', ')}, ~${e.decisions} decisions)`)
    : [`no pulled round evaluates a candidate against the serving model ${r.serving}: publish a candidate, let a round run, then pull`];
  print(r, lines.join('\n'));
  return 0;
}

async function publishCommand({ client, paths, argument, print }: CommandContext): Promise<number> {
  const r = await publishCandidate(client, paths, argument);
  print(r, `model ${r.version} uploaded as a candidate; serve it with: vitrine-train promote ${r.version}`);
  return 0;
}

async function promoteCommand({ values, client, paths, argument, print }: CommandContext): Promise<number> {
  if (values.auto) {
    if (argument) {
      process.stderr.write('vitrine-train: promote takes either a VERSION or --auto, not both\n');
      return 2;
    }
    const r = await promoteIfBetter(client, paths);
    const why = r.evaluations.map((e) => `${e.candidate}: ${e.verdict} — ${e.reason}`);
    const retired = r.retired.length ? `\nno longer evaluated: ${r.retired.join(', ')}` : '';
    print(
      r,
      (r.promoted
        ? `model ${r.promoted} now serves (${why.find((w) => w.startsWith(r.promoted!))})`
        : `nothing promoted; model ${r.serving} keeps serving\n${why.join('\n') || 'no candidate has been evaluated yet'}`) + retired,
    );
    return r.promoted ? 0 : 4;
  }
  if (!argument || !/^[0-9a-f]{16}$/.test(argument)) {
    process.stderr.write('vitrine-train: promote takes a model version (16 hex digits) or --auto\n');
    return 2;
  }
  const r = await client.promote(argument);
  print(r, `model ${r.version} now serves; devices pick it up at their next config check`);
  return 0;
}

async function rollbackCommand({ client, print }: CommandContext): Promise<number> {
  const r = await client.rollback();
  print(r, `model ${r.version} serves again`);
  return 0;
}

async function ledgerCommand({ client, print }: CommandContext): Promise<number> {
  const r = await client.privacy();
  const from = Date.parse(r.window.from);
  const inWindow = r.rounds.filter((x) => x.start > from);
  // A round is charged its noised count when counted, and its sums when released (PRIVACY.md).
  const released = inWindow.filter((x) => x.mechanisms > COUNT_MECHANISMS + 1e-9).length;
  const p = r.pacing;
  print(
    r,
    `site ${r.site}: epsilon ${r.epsilon.toFixed(2)} of ${r.budget} spent (delta ${r.delta}) in the last ${r.periodDays} days over ${released} released rounds and ${inWindow.length - released} counted below K` +
      (r.freesAt ? `; the earliest of them leaves the window at ${r.freesAt}` : '') +
      `; noise ${p.noiseMultiplier.toFixed(3)} (${p.paced ? `paced: every one of the ${p.roundsPerPeriod} rounds of a period fits` : 'set by the site'}), epsilon ${p.epsilonPerRound.toFixed(3)} a released round, ${p.roundsLeft} more would fit now; ` +
      (p.runsOutAt ? `at one release a round the budget runs out with the round of ${p.runsOutAt}` : 'at one release a round the budget lasts') +
      `; all ${r.rounds.length} charged rounds together: epsilon ${r.epsilonAllTime.toFixed(2)}`,
  );
  return 0;
}

/** The commands that talk to the edge (offline reads files only). */
async function importFeedCommand({ values, client, argument, print }: CommandContext): Promise<number> {
  if (!argument || !existsSync(argument)) {
    process.stderr.write(`vitrine-train: import-feed needs a feed file${argument ? ` (${argument} does not exist)` : ''}\n`);
    return 2;
  }
  const level = Number(values['category-level']);
  if (!Number.isInteger(level) || level < 1) {
    process.stderr.write('vitrine-train: --category-level is a whole number from 1\n');
    return 2;
  }
  const result = await importFeed(client, readFileSync(argument, 'utf8'), { dryRun: values['dry-run']!, categoryLevel: level });
  print({ uploaded: result.uploaded, valid: result.products.length, refused: result.refused, dryRun: result.dryRun }, feedImportText(result));
  // Nothing usable in the whole feed is a failure a script should see.
  return result.products.length === 0 ? 1 : 0;
}

const COMMANDS: Record<string, (context: CommandContext) => Promise<number>> = {
  bootstrap: bootstrapCommand,
  pull: pullCommand,
  fit: fitCommand,
  evaluate: evaluateCommand,
  publish: publishCommand,
  promote: promoteCommand,
  rollback: rollbackCommand,
  ledger: ledgerCommand,
  'import-feed': importFeedCommand,
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv);
  const [command, argument] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command === 'offline') return offline(values);
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`vitrine-train: unknown command ${command}\n${USAGE}`);
    return 2;
  }
  if (!values.token) {
    process.stderr.write('vitrine-train: an admin token is needed: --token or VITRINE_ADMIN_TOKEN\n');
    return 2;
  }
  const site = values.site!;
  const client = new EdgeAdminClient(values.edge!.replace(/\/$/, ''), site, values.token);
  const paths = trainerPaths(values.state!, site);
  const log = values.json ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
  const print = (result: object, text: string) => process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${text}\n`);

  return run({ values, argument, client, paths, site, print, log });
}

async function offline(values: Record<string, string | boolean | undefined>): Promise<number> {
  const logs = values.logs as string | undefined;
  const items = values.items as string | undefined;
  if (!logs || !items) {
    process.stderr.write('vitrine-train: offline needs --logs FILE and --items FILE\n');
    return 2;
  }
  if (values.format !== 'obd') {
    process.stderr.write(`vitrine-train: unknown --format ${String(values.format)}; obd (Open Bandit Dataset) is supported\n`);
    return 2;
  }
  for (const file of [logs, items, values['check-logs'] as string | undefined].filter(Boolean) as string[]) {
    if (!existsSync(file)) {
      process.stderr.write(
        `vitrine-train: ${file} does not exist; nothing to do (the Open Bandit Dataset sample lives in ../shared/data/obd-men on the team's machines)\n`,
      );
      return 3;
    }
  }
  const trainShare = Number(values['train-share']);
  if (!(trainShare > 0 && trainShare < 1)) {
    process.stderr.write('vitrine-train: --train-share must be between 0 and 1\n');
    return 2;
  }
  const bar = values.json ? null : progress('fit', DEFAULT_FIT.epochs);
  const r = await runOffline({
    logs,
    items,
    trainShare,
    checkLogs: values['check-logs'] as string | undefined,
    explorationFloor: 0.01,
    seed: 7,
    onEpoch: (e, loss) => bar?.tick(e, `loss ${loss.toFixed(4)}`),
  });
  bar?.done();
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const iv = (e: { estimate: number; lower: number; upper: number }) => `${pct(e.estimate)} [${pct(e.lower)}, ${pct(e.upper)}]`;
  const lines = [
    `trained on the first ${r.trainRows} of ${r.rows} rows, evaluated on the last ${r.evalRows} (${r.items} items)`,
    `logging policy's CTR on the evaluation rows: ${pct(r.logging_ctr)}`,
    `learned policy (95% intervals): IPS ${iv(r.learned.ips)}, SNIPS ${iv(r.learned.snips)}, DR ${iv(r.learned.dr)}`,
  ];
  if (r.check)
    lines.push(
      `check: ${r.check.policy} estimated from this log: IPS ${iv(r.check.ips)}, SNIPS ${iv(r.check.snips)}; its own observed CTR ${pct(r.check.observed_ctr)}`,
    );
  process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : `${lines.join('\n')}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const message = e instanceof EdgeError || e instanceof NotEnoughSignal || e instanceof Error ? e.message : String(e);
    process.stderr.write(`vitrine-train: ${message}\n`);
    process.exit(1);
  },
);
