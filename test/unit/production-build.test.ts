/**
 * The deployed worker holds no test control: wrangler's own production bundle (the dry run of
 * `npm run deploy`) is searched for the test routes, and the test build's bundle, which mounts
 * them, is searched the same way to show the search would find them.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const out = mkdtempSync(path.join(tmpdir(), 'vitrine-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function bundle(name: string, entry: string, extra: string[]): string {
  mkdirSync(path.join(root, 'dist/edge-assets'), { recursive: true }); // wrangler refuses a missing assets folder
  const dir = path.join(out, name);
  const run = spawnSync(path.join(root, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', dir, ...extra], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stdout}\n${run.stderr}`);
  return readFileSync(path.join(dir, `${entry}.js`), 'utf8');
}

describe('the production bundle', () => {
  it('has no test route; the test build, bundled the same way, has them', () => {
    const production = bundle('production', 'index', ['--env', 'production']);
    expect(production).toContain('/v1/admin/sites/:site/rounds/:round/release');
    expect(production).not.toContain('/v1/test/');
    const testBuild = bundle('test', 'test-worker', ['edge-worker/src/test-worker.ts']);
    expect(testBuild).toContain('/v1/test/sites/:site/rounds/close');
  });
});
