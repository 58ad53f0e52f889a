/**
 * Standard Privacy Pass on the wire (RFC 9577/9578): a stock client, the library's own `Client`
 * with no project code, reads the report route's challenge, obtains a token from the round's
 * issuer URL and redeems it in an Authorization header. And what a hostile client tries on the
 * same wire: tokens with bytes appended, two tokens in one report, malformed requests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationHeader, type Token, WWWAuthenticateHeader } from '@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js';
import * as publicVerif from '@cloudflare/privacypass-ts/lib/src/pub_verif_token.js';
import { toBase64Url } from '../../protocol/report-token.ts';
import { admin, currentRoundId, edge, exactRound, expectOk, randomAddress, SHOP_ORIGIN, tokenOf } from './edge-helpers.ts';

const SITE = 'networks';
const report = (round: number, extra: object = {}) => ({
  v: 1,
  reportId: crypto.randomUUID(),
  round,
  modelVersion: null,
  outcomes: [{ creativeId: 'c1', impressions: 1, clicks: 1 }],
  ...extra,
});

function post(path: string, body: BodyInit, headers: Record<string, string>): Promise<Response> {
  return edge(path, { method: 'POST', headers: { origin: SHOP_ORIGIN, 'cf-connecting-ip': randomAddress(), ...headers }, body });
}

/** A token obtained the way any Privacy Pass client would: the challenge from a 401, a TokenRequest to the issuer URL. */
async function standardToken(round: number): Promise<{ token: Token; header: string }> {
  const unauthorized = await post(`/v1/sites/${SITE}/reports`, JSON.stringify(report(round)), { 'content-type': 'text/plain' });
  expect(unauthorized.status).toBe(401);
  const [challenge] = WWWAuthenticateHeader.parse(unauthorized.headers.get('www-authenticate')!);
  const client = new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
  const request = await client.createTokenRequest(challenge!.challenge, challenge!.tokenKey);
  const issued = await post(`/v1/sites/${SITE}/rounds/${round}/token-request`, request.serialize() as Uint8Array<ArrayBuffer>, {
    'content-type': 'application/private-token-request',
    accept: 'application/private-token-response',
  });
  expect(issued.status).toBe(200);
  expect(issued.headers.get('content-type')).toBe('application/private-token-response');
  const token = await client.finalize(publicVerif.TokenResponse.deserialize(new Uint8Array(await issued.arrayBuffer())));
  return { token, header: new AuthorizationHeader(token).toString() };
}

describe('standard Privacy Pass', () => {
  beforeAll(async () => {
    await expectOk(admin(`/v1/admin/sites/${SITE}`, 'PUT', { name: 'Networks', allowedOrigins: [SHOP_ORIGIN], tokensPerAddress: 100 }, tokenOf(SITE)));
  });

  it("the library's own Client obtains a token by RFC 9578 issuance and redeems it in an Authorization: PrivateToken header", async () => {
    const round = await currentRoundId(SITE);
    const before = (await exactRound(round, SITE)).contributors;
    const { header } = await standardToken(round);
    expect(header).toMatch(/^PrivateToken token=/);
    const redeemed = await post(`/v1/sites/${SITE}/reports`, JSON.stringify(report(round)), { 'content-type': 'text/plain', authorization: header });
    expect(redeemed.status).toBe(202);
    // Spent: the same token again on another report is refused.
    const again = await post(`/v1/sites/${SITE}/reports`, JSON.stringify(report(round)), { 'content-type': 'text/plain', authorization: header });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'token_spent' });
    expect((await exactRound(round, SITE)).contributors).toBe(before + 1);
  });

  it('attack: a token with bytes appended, in the header or the body, is refused (exact length); so is a report with two tokens', async () => {
    const round = await currentRoundId(SITE);
    const before = (await exactRound(round, SITE)).contributors;
    const { token } = await standardToken(round);
    const bytes = token.serialize();
    const padded = toBase64Url(Uint8Array.from([...bytes, 1, 2, 3]));
    const attempts: { headers: Record<string, string>; body: object }[] = [
      { headers: { authorization: `PrivateToken token=${padded}` }, body: report(round) },
      { headers: {}, body: report(round, { token: padded }) },
    ];
    for (const sent of attempts) {
      const r = await post(`/v1/sites/${SITE}/reports`, JSON.stringify(sent.body), { 'content-type': 'text/plain', ...sent.headers });
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ error: 'invalid_token', detail: expect.stringContaining('354 bytes (got 357)') });
    }
    const exact = toBase64Url(bytes);
    const both = await post(`/v1/sites/${SITE}/reports`, JSON.stringify(report(round, { token: exact })), {
      'content-type': 'text/plain',
      authorization: `PrivateToken token=${exact}`,
    });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: 'two_tokens' });
    const otherScheme = await post(`/v1/sites/${SITE}/reports`, JSON.stringify(report(round)), {
      'content-type': 'text/plain',
      authorization: `Bearer ${exact}`,
    });
    expect(otherScheme.status).toBe(401);
    expect((await exactRound(round, SITE)).contributors).toBe(before);
    // The untouched token still spends once.
    expect(
      (await post(`/v1/sites/${SITE}/reports`, JSON.stringify(report(round)), { 'content-type': 'text/plain', authorization: `PrivateToken token="${exact}"` }))
        .status,
    ).toBe(202);
  });

  it('issuance takes exactly a TokenRequest as application/private-token-request: another type 415, another length 400/413, nothing signed', async () => {
    const round = await currentRoundId(SITE);
    const path = `/v1/sites/${SITE}/rounds/${round}/token-request`;
    const request = new Uint8Array(259);
    request.set([0, 2]);
    expect((await post(path, request, { 'content-type': 'application/octet-stream' })).status).toBe(415);
    expect((await post(path, request.slice(0, 258), { 'content-type': 'application/private-token-request' })).status).toBe(400);
    expect((await post(path, new Uint8Array(260), { 'content-type': 'application/private-token-request' })).status).toBe(413);
    // The right size but not for this round's key: refused with the reason.
    const wrongKey = await post(path, request, { 'content-type': 'application/private-token-request' });
    expect(wrongKey.status).toBe(400);
    expect(await wrongKey.json()).toMatchObject({ error: 'invalid_token_request' });
    // A round that is not open: 409 with the open one.
    const closed = await post(`/v1/sites/${SITE}/rounds/${round - 1}/token-request`, request, { 'content-type': 'application/private-token-request' });
    expect(closed.status).toBe(409);
    expect(await closed.json()).toMatchObject({ error: 'round_closed', openRound: round });
  });

  it('answers a preflight for the Authorization header and the token request type', async () => {
    const r = await edge(`/v1/sites/${SITE}/reports`, {
      method: 'OPTIONS',
      headers: { origin: SHOP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    expect(r.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
  });
});
