/**
 * Before the e2e tests: Playwright cannot download its own browsers here, so the tests use
 * Debian's Chromium at /usr/bin/chromium. Missing, it is installed with apt-get when this runs
 * as root with apt-get available; otherwise this fails with the command that fixes it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
const FIX = 'sudo apt-get update && sudo apt-get install -y chromium';

if (existsSync(CHROMIUM)) process.exit(0);

const isRoot = process.getuid?.() === 0;
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
if (!isRoot || !hasApt) {
  console.error(`The end-to-end tests need Debian's Chromium at ${CHROMIUM}. Install it with:\n  ${FIX}`);
  process.exit(1);
}
console.log(`${CHROMIUM} is missing: installing Debian's chromium with apt-get (one time)…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'chromium']]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed; install it by hand:\n  ${FIX}`);
    process.exit(1);
  }
}
if (!existsSync(CHROMIUM)) {
  console.error(`apt-get finished but ${CHROMIUM} is still missing`);
  process.exit(1);
}
console.log(`installed ${CHROMIUM}`);
