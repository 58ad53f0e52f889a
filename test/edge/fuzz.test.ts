/**
 * Property-based fuzz of every POST and PUT route: 1,000 hostile or malformed payloads per route
 * (generated with fast-check in Node, see hostile-payloads.ts), each sent through the real
 * worker with a valid admin token, must get a 4xx with a JSON reason and change nothing: every
 * D1 row and the open round's sums are compared before and after.
 * The 9,000 requests go straight to the worker's fetch handler (`handle`, see edge-helpers.ts).
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { roundAggregator } from '../../edge-worker/src/rounds.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  currentRoundId,
  DEMO_TOKEN,
  exactRound,
  expectOk,
  handle,
  postReport,
  randomAddress,
  seedDemoSite,
  SHOP_ORIGIN,
  tinyModel,
} from './edge-helpers.ts';

const TABLES = ['sites', 'products', 'templates', 'creatives'];

async function state(): Promise<unknown> {
  const rows: Record<string, unknown> = {};
  for (const table of TABLES) rows[table] = (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()).results;
  rows.models = (await env.DB.prepare('SELECT site, version, status, spec_hash FROM models ORDER BY site, version').all()).results;
  rows.round = await exactRound(await currentRoundId());
  rows.tokenIssues = await runInDurableObject(roundAggregator(env.ROUNDS, 'demo', await currentRoundId()), (_i, st) =>
    st.storage.sql.exec('SELECT * FROM token_issues ORDER BY client').toArray(),
  );
  rows.ledger = (await env.DB.prepare('SELECT * FROM privacy_ledger ORDER BY 1, 2').all()).results;
  return rows;
}

describe('fuzz: hostile payloads against every POST and PUT route', () => {
  beforeAll(async () => {
    await seedDemoSite();
    // Two models, the second serving: an accepted rollback would show in the models table.
    for (const fill of [0.01, 0.02]) {
      const { version } = (await expectOk(admin('/v1/admin/sites/demo/models', 'POST', tinyModel(fill)))) as { version: string };
      await expectOk(admin(`/v1/admin/sites/demo/models/${version}/promote`, 'POST'));
    }
    // And something in the open round, so a double count would show.
    const round = await currentRoundId();
    expect(
      (
        await postReport('demo', {
          v: 1,
          reportId: crypto.randomUUID(),
          round,
          modelVersion: null,
          outcomes: [{ creativeId: 'c-p1', impressions: 1, clicks: 1 }],
        })
      ).status,
    ).toBe(202);
  });

  it('answers every one with a 4xx and a reason, and changes no state', async () => {
    const payloads = env.HOSTILE_PAYLOADS;
    const routes = new Set(payloads.map((p) => p.route));
    expect(routes.size).toBe(9);
    for (const route of routes) expect(payloads.filter((p) => p.route === route).length).toBeGreaterThanOrEqual(1000);
    const before = await state();
    const failures: string[] = [];
    const BATCH = 50;
    for (let i = 0; i < payloads.length; i += BATCH) {
      await Promise.all(
        payloads.slice(i, i + BATCH).map(async (p) => {
          const r = await handle(
            new Request(`http://edge.test${p.route}`, {
              method: p.method,
              headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': p.contentType, origin: SHOP_ORIGIN, 'cf-connecting-ip': randomAddress() },
              body: p.body,
            }),
          );
          const text = await r.text();
          let reason = false;
          try {
            const json = JSON.parse(text) as { error?: unknown; detail?: unknown };
            reason = typeof json.error === 'string' && typeof json.detail === 'string';
          } catch {
            reason = false;
          }
          if (r.status < 400 || r.status >= 500 || !reason)
            failures.push(`${p.method} ${p.route} ${JSON.stringify(p.body.slice(0, 120))} -> ${r.status} ${text.slice(0, 120)}`);
        }),
      );
    }
    expect(failures.slice(0, 10), `${failures.length} of ${payloads.length} payloads were not refused cleanly`).toEqual([]);
    expect(await state()).toEqual(before);
  }, 300_000);
});
