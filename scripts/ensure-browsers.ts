/**
 * Before the e2e tests: Playwright cannot download its own browsers here, so the tests use
 * Debian's: Chromium (Playwright), Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK
 * (WebKitWebDriver, under Xvfb, with test/browsers/webkit-host.py on Debian's python3-gi). What
 * is missing is installed with apt-get when this runs as root with apt-get available; otherwise
 * this fails with the command that fixes it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Each package and the file that shows it is installed. */
const NEEDED: [pkg: string, file: string][] = [
  ['chromium', '/usr/bin/chromium'],
  ['firefox-esr', '/usr/bin/firefox-esr'],
  ['webkit2gtk-driver', '/usr/bin/WebKitWebDriver'],
  ['xvfb', '/usr/bin/Xvfb'],
  ['python3-gi', '/usr/lib/python3/dist-packages/gi/__init__.py'],
  ['gir1.2-webkit2-4.1', '/usr/lib/x86_64-linux-gnu/girepository-1.0/WebKit2-4.1.typelib'],
];

const missing = NEEDED.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
if (missing.length === 0) process.exit(0);

const FIX = `sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`;
const isRoot = process.getuid?.() === 0;
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
if (!isRoot || !hasApt) {
  console.error(`The end-to-end tests need Debian's ${missing.join(', ')}. Install them with:\n  ${FIX}`);
  process.exit(1);
}
console.log(`installing Debian's ${missing.join(', ')} with apt-get (one time)…`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', ...missing],
]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed; install them by hand:\n  ${FIX}`);
    process.exit(1);
  }
}
const still = NEEDED.filter(([, file]) => !existsSync(file)).map(([, file]) => file);
if (still.length > 0) {
  console.error(`apt-get finished but ${still.join(', ')} is still missing`);
  process.exit(1);
}
console.log(`installed ${missing.join(', ')}`);
