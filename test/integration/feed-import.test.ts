/**
 * `vitrine-train import-feed`, the command a merchant runs, against a real local edge (wrangler
 * dev, D1): a Merchant Center feed (test/fixtures/feeds, written to its documented format) lands
 * as products the site's catalog and config serve, every refused row is listed with its line,
 * attribute and reason, a dry run sends nothing, and a product already in the catalog keeps its
 * popularity (a feed has none).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeAdminClient } from '../../model-training/src/edge-admin-client.ts';
import { applyMigrations, startLocalEdge } from '../../scripts/local-edge.ts';
import type { LocalEdge } from '../../scripts/local-edge.ts';

const PORT = 8817;
const SITE = 'feedshop';
const TOKEN = 'feedshop-admin-token-for-the-import-test';
const root = path.resolve(import.meta.dirname, '../..');
const XML_FEED = path.join(root, 'test/fixtures/feeds/merchant-center.xml');
const state = mkdtempSync(path.join(tmpdir(), 'vitrine-feed-'));
let edge: LocalEdge;
let client: EdgeAdminClient;

interface Answer {
  uploaded: number;
  valid: number;
  refused: { line: number; field: string }[];
}

/** The CLI as a merchant runs it: its exit code, its --json answer (null when it printed none) and what it said on stderr. */
async function importFeed(...args: string[]): Promise<{ code: number; answer: Answer | null; stderr: string }> {
  const cli = path.join(root, 'model-training/src/cli.ts');
  const argv = ['--import', 'tsx', cli, 'import-feed', ...args, '--edge', edge.url, '--site', SITE, '--token', TOKEN, '--json'];
  const { code, stdout, stderr } = await promisify(execFile)(process.execPath, argv, { cwd: root }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  return { code, answer: stdout.trim() ? (JSON.parse(stdout) as Answer) : null, stderr };
}

beforeAll(async () => {
  applyMigrations(path.join(state, 'wrangler'));
  edge = await startLocalEdge(PORT, path.join(state, 'wrangler'), { ADMIN_TOKENS: JSON.stringify({ [SITE]: TOKEN }) });
  client = new EdgeAdminClient(edge.url, SITE, TOKEN);
  await client.putSite({ name: 'Feed shop', allowedOrigins: ['https://shop.example'] });
}, 120_000);

afterAll(() => {
  edge?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe('vitrine-train import-feed', () => {
  it('a dry run checks the feed and sends nothing', async () => {
    const { code, answer } = await importFeed(XML_FEED, '--dry-run');
    expect(code).toBe(0);
    expect(answer).toMatchObject({ uploaded: 0, valid: 2 });
    expect(answer!.refused.map((r) => [r.line, r.field])).toEqual([
      [34, 'price'],
      [43, 'brand'],
      [51, 'image_link'],
      [60, 'id'],
    ]);
    expect((await client.catalog()).products).toEqual([]);
  }, 120_000);

  it('uploads the valid rows, listing the refused ones; a product already there keeps its popularity', async () => {
    await client.putProducts([
      {
        id: 'RJ-7',
        name: 'Old jacket',
        category: 'Outerwear',
        brand: 'Nimbus',
        price: 150,
        imageUrl: 'https://shop.example/j.jpg',
        url: 'https://shop.example/j',
        inStock: true,
        popularity: 0.8,
      },
    ]);
    const { code, answer } = await importFeed(XML_FEED);
    expect(code).toBe(0);
    expect(answer).toMatchObject({ uploaded: 2, valid: 2 });
    expect(answer!.refused).toHaveLength(4);
    const products = (await client.catalog()).products;
    expect(products.map((p) => [p.id, p.name, p.price, p.listPrice, p.inStock, p.popularity, p.gtin])).toEqual([
      ['RJ-7', 'Rain jacket', 119, 140, false, 0.8, undefined],
      ['TS-100', 'Trail shoe "Ridge" & co', 89, undefined, true, 0, '4006381333931'],
    ]);
  }, 120_000);

  it('a feed with nothing usable exits 1; a missing file exits 2', async () => {
    const empty = path.join(state, 'empty.tsv');
    writeFileSync(empty, 'id\ttitle\nX\tno price\n');
    const { code, answer } = await importFeed(empty);
    expect(code).toBe(1);
    expect(answer).toMatchObject({ uploaded: 0, valid: 0 });
    const missing = await importFeed(path.join(state, 'nope.xml'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
  }, 120_000);
});
