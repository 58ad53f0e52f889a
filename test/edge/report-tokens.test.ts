/**
 * One report per device and round, enforced by the edge against a hostile client (issue 18):
 * every attack here is what a client could send, through the real worker and round objects.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, currentRoundId, edge, exactRound, expectOk, mintedTokens, postReport, randomAddress, reportToken, SHOP_ORIGIN } from './edge-helpers.ts';
import { fromBase64Url, toBase64Url } from '../../protocol/report-token.ts';

const SITE = 'tokens';
const TOKEN = 'test-tokens-admin-token-0005';
const PER_ADDRESS = 3;

function report(round: number, extra: object = {}) {
  return { v: 1, reportId: crypto.randomUUID(), round, modelVersion: null, outcomes: [{ creativeId: 'c1', impressions: 1, clicks: 1 }], ...extra };
}

const contributors = async (round: number) => (await exactRound(round, SITE)).contributors;

function tokenRequest(round: number, request: string, address: string): Promise<Response> {
  return edge(`/v1/sites/${SITE}/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: SHOP_ORIGIN, 'cf-connecting-ip': address },
    body: JSON.stringify({ round, request }),
  });
}

describe('report tokens', () => {
  beforeAll(async () => {
    await expectOk(
      admin(`/v1/admin/sites/${SITE}`, 'PUT', { name: 'Tokens', allowedOrigins: [SHOP_ORIGIN], minCohort: 2, tokensPerAddress: PER_ADDRESS }, TOKEN),
    );
  });

  it('refuses a report without a token, and one whose token is forged, adding nothing', async () => {
    const round = await currentRoundId(SITE);
    const before = await contributors(round);
    const missing = await postReport(SITE, report(round, { token: undefined }));
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: 'token_required' });
    // A real token with its signature's last byte changed.
    const real = fromBase64Url(await reportToken(SITE, round))!;
    real[real.length - 1] = real[real.length - 1]! ^ 1;
    const forged = await postReport(SITE, report(round, { token: toBase64Url(real) }));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: 'invalid_token', detail: expect.stringContaining('signature') });
    const garbage = await postReport(SITE, report(round, { token: 'AAAA' }));
    expect(garbage.status).toBe(401);
    expect(await contributors(round)).toBe(before);
  });

  it('takes one report per token: a second report with it is refused (409), a retry of the first counts once', async () => {
    const round = await currentRoundId(SITE);
    const before = await contributors(round);
    const token = await reportToken(SITE, round);
    const first = report(round, { token });
    expect((await postReport(SITE, first)).status).toBe(202);
    expect((await postReport(SITE, first)).status).toBe(200); // the same report again: a retry
    const second = await postReport(SITE, report(round, { token }));
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ error: 'token_spent' });
    expect(await contributors(round)).toBe(before + 1);
  });

  it('spends a token once when five reports carrying it arrive at once', async () => {
    const round = await currentRoundId(SITE);
    const before = await contributors(round);
    const token = await reportToken(SITE, round);
    const statuses = (await Promise.all(Array.from({ length: 5 }, () => postReport(SITE, report(round, { token }))))).map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(4);
    expect(await contributors(round)).toBe(before + 1);
  });

  it('refuses a token of another round or another site: each round has its own key', async () => {
    const round = await currentRoundId(SITE);
    const [earlier] = await mintedTokens(SITE, round - 1, 1);
    const [otherSite] = await mintedTokens('demo', round, 1);
    for (const token of [earlier, otherSite]) {
      const r = await postReport(SITE, report(round, { token }));
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: 'invalid_token', detail: expect.stringMatching(/round|key/) });
    }
  });

  it('gives an address tokensPerAddress tokens per round, even asked all at once, and other addresses theirs', async () => {
    const round = await currentRoundId(SITE);
    const address = randomAddress();
    // Ten blinded requests at once from one address: the count is taken before any is signed.
    const requests = await Promise.all(Array.from({ length: 10 }, () => blindedRequest(round)));
    const answers = await Promise.all(requests.map((r) => tokenRequest(round, r, address)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(PER_ADDRESS);
    const refused = answers.find((a) => a.status === 429)!;
    expect(await refused.json()).toMatchObject({ error: 'token_limit' });
    expect((await tokenRequest(round, await blindedRequest(round), randomAddress())).status).toBe(200);
  });

  it('serves one key per round to every device, only for the open round, and refuses bad requests with a reason', async () => {
    const round = await currentRoundId(SITE);
    const key = async (r: number, address: string) => edge(`/v1/sites/${SITE}/rounds/${r}/token-key`, { headers: { 'cf-connecting-ip': address } });
    const [a, b] = await Promise.all([key(round, randomAddress()), key(round, randomAddress())]);
    expect(((await a.json()) as { publicKey: string }).publicKey).toBe(((await b.json()) as { publicKey: string }).publicKey);
    expect((await key(round - 1, randomAddress())).status).toBe(409);
    expect((await key(round + 1, randomAddress())).status).toBe(409);
    expect((await edge(`/v1/sites/${SITE}/rounds/x1/token-key`)).status).toBe(400);
    const notBase64 = await tokenRequest(round, '***', randomAddress());
    expect(notBase64.status).toBe(422);
    const wrongShape = await tokenRequest(round, toBase64Url(new Uint8Array(40)), randomAddress());
    expect(wrongShape.status).toBe(400);
    expect(await wrongShape.json()).toMatchObject({ error: 'invalid_token_request', detail: expect.any(String) });
    const closed = await tokenRequest(round - 1, await blindedRequest(round), randomAddress());
    expect(closed.status).toBe(409);
    expect(await closed.json()).toMatchObject({ error: 'round_closed', openRound: round });
  });
});

/** A device's blinded request for the round (the widget's client, stopped before it sends). */
async function blindedRequest(round: number): Promise<string> {
  const publicVerif = await import('@cloudflare/privacypass-ts/lib/src/pub_verif_token.js');
  const { reportChallenge } = await import('../../protocol/report-token.ts');
  const key = (await expectOk(edge(`/v1/sites/${SITE}/rounds/${round}/token-key`))) as { publicKey: string };
  const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
  const request = await client.createTokenRequest(await reportChallenge(SITE, round), fromBase64Url(key.publicKey)!);
  return toBase64Url(request.serialize());
}
