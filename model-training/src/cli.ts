/**
 * vitrine-train: the trainer's command line (`npm run train -- <command>`).
 * Commands so far: bootstrap (a site's first model from synthetic shoppers).
 */
import { parseArgs } from 'node:util';
import { bootstrapSiteModel } from './bootstrap-model.ts';
import { EdgeAdminClient, EdgeError } from './edge-admin-client.ts';

const USAGE = `usage: vitrine-train <command> [options]

commands:
  bootstrap   train a site's first model on synthetic shoppers over its current candidates,
              upload it, and serve it if no usable model serves yet

options:
  --edge URL        the edge worker (default $VITRINE_EDGE or http://127.0.0.1:8787)
  --site ID         the site (default $VITRINE_SITE or demo)
  --token TOKEN     the site's admin token (default $VITRINE_ADMIN_TOKEN)
  --examples N      synthetic impressions to train on (default 40000)
  --json            print the result as JSON
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      edge: { type: 'string', default: process.env.VITRINE_EDGE ?? 'http://127.0.0.1:8787' },
      site: { type: 'string', default: process.env.VITRINE_SITE ?? 'demo' },
      token: { type: 'string', default: process.env.VITRINE_ADMIN_TOKEN },
      examples: { type: 'string', default: '40000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command !== 'bootstrap') {
    process.stderr.write(`vitrine-train: unknown command ${command}\n${USAGE}`);
    return 2;
  }
  if (!values.token) {
    process.stderr.write('vitrine-train: an admin token is needed: --token or VITRINE_ADMIN_TOKEN\n');
    return 2;
  }
  const examples = Number(values.examples);
  if (!Number.isInteger(examples) || examples < 1000 || examples > 2_000_000) {
    process.stderr.write('vitrine-train: --examples must be a whole number from 1000 to 2000000\n');
    return 2;
  }
  const client = new EdgeAdminClient(values.edge!.replace(/\/$/, ''), values.site!, values.token);
  const log = values.json ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
  const version = await bootstrapSiteModel(client, { examples, cacheDir: '.vitrine/models', log });
  process.stdout.write(values.json ? `${JSON.stringify({ version })}\n` : `${version}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`vitrine-train: ${e instanceof EdgeError || e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
