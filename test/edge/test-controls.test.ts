/**
 * Tests close rounds by a call, never by waiting out a deadline: the test controls
 * (edge-worker/src/test-controls.ts), which only the test build mounts and only an enabled
 * binding and the site's token open. And a site's rounds keep their numbers and windows when its
 * round length changes.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import productionWorker from '../../edge-worker/src/index.ts';
import testWorker from '../../edge-worker/src/test-worker.ts';
import type { Env } from '../../edge-worker/src/env.ts';
import type { Report } from '../../protocol/wire.ts';
import { admin, closeOpenRound, currentRoundId, DEMO_TOKEN, edge, exactRound, expectOk, postReport, seedDemoSite, SHOP_ORIGIN } from './edge-helpers.ts';

const report = (round: number): Report => ({
  v: 1,
  reportId: crypto.randomUUID(),
  round,
  modelVersion: null,
  outcomes: [{ creativeId: 'c-p1', impressions: 1, clicks: 0, conversions: 0, dismissals: 0, value: 0 }],
});

async function call(worker: ExportedHandler<Env>, bindings: Env, path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`http://edge.test${path}`, { method: 'POST', headers: { authorization: `Bearer ${DEMO_TOKEN}` } });
  const response = await worker.fetch!(request as Request<unknown, IncomingRequestCfProperties>, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('the test controls', () => {
  beforeAll(() => seedDemoSite(2));

  it('close the open round now: its reports are refused, the next round is open at once and named in the config, the closed one can be released', async () => {
    const round = await currentRoundId();
    expect((await postReport('demo', report(round))).status).toBe(202);
    expect((await postReport('demo', report(round))).status).toBe(202);
    const { closed, open } = await closeOpenRound();
    expect([closed, open]).toEqual([round, round + 1]);
    // The config names the new round at once (the isolate forgot its copy of the site).
    expect(await currentRoundId()).toBe(round + 1);
    const late = await postReport('demo', report(round));
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: 'round_closed', openRound: round + 1 });
    expect((await postReport('demo', report(round + 1))).status).toBe(202);
    expect((await exactRound(round)).contributors).toBe(2);
    const status = (await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}`, 'GET'))) as { status: string; start: number; deadline: number };
    expect(status.status).toBe('closed');
    expect(status.deadline).toBeLessThanOrEqual(Date.now());
    expect(status.start).toBeLessThan(status.deadline);
    expect(((await expectOk(admin(`/v1/admin/sites/demo/rounds/${round}/release`, 'POST'))) as { status: string }).status).toMatch(/released|below_cohort/);
  });

  it("need the site's own admin token", async () => {
    expect((await edge('/v1/test/sites/demo/rounds/close', { method: 'POST' })).status).toBe(401);
    expect((await admin('/v1/test/sites/demo/rounds/close', 'POST', undefined, 'test-other-admin-token-0002')).status).toBe(403);
  });

  it('are absent from the deployed worker, and refused by the test build unless enabled', async () => {
    const bindings = env as unknown as Env;
    const before = await currentRoundId();
    const deployed = await call(productionWorker, bindings, '/v1/test/sites/demo/rounds/close');
    expect(deployed.status).toBe(404);
    const disabled = await call(testWorker, { ...bindings, TEST_CONTROLS: undefined }, '/v1/test/sites/demo/rounds/close');
    expect(disabled.status).toBe(404);
    expect(await currentRoundId()).toBe(before);
  });
});

describe('round length changes', () => {
  beforeAll(() => seedDemoSite(2));

  it('take effect at the next round: the open round keeps its id and deadline, and its reports stay in it', async () => {
    const settings = { name: 'Demo', allowedOrigins: [SHOP_ORIGIN], minCohort: 2 };
    await expectOk(admin('/v1/admin/sites/demo', 'PUT', { ...settings, roundSeconds: 3600 }));
    await closeOpenRound(); // the next round, of an hour, begins now
    const config = async () => ((await (await edge('/v1/sites/demo/config')).json()) as { round: { id: number; deadline: string } }).round;
    const open = await config();
    expect((await postReport('demo', report(open.id))).status).toBe(202);
    const answer = (await expectOk(admin('/v1/admin/sites/demo', 'PUT', { ...settings, roundSeconds: 86_400 }))) as {
      roundSeconds: number;
      roundSchedule: { fromRound: number; startsAt: number; roundSeconds: number }[];
    };
    expect(answer.roundSeconds).toBe(86_400);
    expect(answer.roundSchedule.at(-1)).toEqual({ fromRound: open.id + 1, startsAt: Date.parse(open.deadline), roundSeconds: 86_400 });
    expect(await config()).toEqual(open);
    expect((await postReport('demo', report(open.id))).status).toBe(202);
    expect((await exactRound(open.id)).contributors).toBe(2);
  });
});
