/**
 * Obtaining a round's report token (protocol/report-token.ts): the round's public key, a blinded
 * request the edge signs, the signature unblinded into a token the edge has never seen. Costs
 * two requests (three with the issuance's CORS preflight) and about 3 ms of big-number arithmetic (report-token-blinding.ts), once per
 * round, in the engine's worker (the simulator and the tests call it too: one way to get a token).
 */
import * as v from 'valibot';
import { blindTokenRequest } from './report-token-blinding.ts';
import {
  fromBase64Url,
  REPORT_TOKEN_TYPE,
  reportChallenge,
  TOKEN_REQUEST_TYPE,
  TOKEN_RESPONSE_BYTES,
  TOKEN_RESPONSE_TYPE,
  tokenRequestPath,
  toBase64Url,
  TokenKeyAnswerSchema,
} from '../../protocol/report-token.ts';

/** Why no token: `retry` false when asking again this round cannot help (the address's limit, a closed round). */
export interface TokenRefusal {
  refused: string;
  retry: boolean;
}

/** `send`: the fetch to use (tests pass the worker's own, with a client address). */
export async function obtainReportToken(edge: string, site: string, round: number, send: typeof fetch = fetch): Promise<{ token: string } | TokenRefusal> {
  const base = `${edge}/v1/sites/${encodeURIComponent(site)}`;
  try {
    const keyResponse = await send(`${base}/rounds/${round}/token-key`, { credentials: 'omit' });
    if (!keyResponse.ok) return { refused: `token key: ${keyResponse.status} ${(await keyResponse.text()).slice(0, 200)}`, retry: keyResponse.status >= 500 };
    const key = v.parse(TokenKeyAnswerSchema, await keyResponse.json());
    const publicKey = fromBase64Url(key.publicKey);
    if (!publicKey || key.round !== round || key.site !== site) return { refused: 'token key: not the key of this round', retry: false };
    const blinded = await blindTokenRequest(REPORT_TOKEN_TYPE, (await reportChallenge(site, round)).serialize(), publicKey);
    // RFC 9578 issuance: the TokenRequest's bytes to the round's issuer URL (a CORS preflight
    // first: the engine's worker can wait for it; nothing here is on a page's way out).
    const issued = await send(`${edge}${tokenRequestPath(site, round)}`, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': TOKEN_REQUEST_TYPE, accept: TOKEN_RESPONSE_TYPE },
      body: blinded.request,
    });
    if (!issued.ok) return { refused: `token: ${issued.status} ${(await issued.text()).slice(0, 200)}`, retry: issued.status >= 500 || issued.status === 408 };
    const responseBytes = new Uint8Array(await issued.arrayBuffer());
    if (responseBytes.length !== TOKEN_RESPONSE_BYTES)
      return { refused: `token: the response is ${responseBytes.length} bytes, not ${TOKEN_RESPONSE_BYTES}`, retry: false };
    // finalize() checks the unblinded signature against the round's public key: a token the
    // edge signed with another key (one that could tell this device apart) is not accepted.
    return { token: toBase64Url(await blinded.finalize(responseBytes)) };
  } catch (e) {
    return { refused: `token: ${(e as Error).message}`, retry: true };
  }
}
