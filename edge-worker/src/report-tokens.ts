/**
 * The edge's half of report tokens (protocol/report-token.ts): the round's issuing key, signing
 * blinded requests, and checking a report's token. Spending a token (once) is the round's
 * Durable Object's job: it is the one serialized place that sees every report of the round.
 */
import * as publicVerif from '@cloudflare/privacypass-ts/lib/src/pub_verif_token.js';
import { Token } from '@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js';

const TOKEN_TYPES = { BLIND_RSA: publicVerif.BLIND_RSA };
import { fromBase64Url, reportChallenge, toBase64Url } from '../../protocol/report-token.ts';

const { BlindRSAMode, Issuer, TokenRequest, getPublicKeyBytes } = publicVerif;
const MODE = BlindRSAMode.PSS;
const RSA_PSS = { name: 'RSA-PSS', hash: 'SHA-384' } as const;

export interface TokenKeyPair {
  /** PKCS #8, kept inside the round's object only. */
  privateKey: Uint8Array;
  /** SPKI with the RSASSA-PSS algorithm identifier (RFC 9578's Token Key encoding): what devices get. */
  publicKey: Uint8Array;
}

/** A fresh 2048-bit key for one round's tokens. */
export async function newTokenKey(): Promise<TokenKeyPair> {
  const pair = await Issuer.generateKey(MODE, { modulusLength: 2048, publicExponent: Uint8Array.from([1, 0, 1]) });
  return {
    privateKey: new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer),
    publicKey: await getPublicKeyBytes(pair.publicKey),
  };
}

/** A copy backed by a plain ArrayBuffer (what WebCrypto's types ask for). */
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

async function keyId(publicKey: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', own(publicKey)));
}

/**
 * Signs a device's blinded request with the round's key, or says why not. The edge never sees
 * the token this becomes. (workerd signs with its native RSA-RAW; the library's big-number
 * fallback is for runtimes without it.)
 */
export async function signTokenRequest(key: TokenKeyPair, requestText: string): Promise<{ response: string } | { refused: string }> {
  const bytes = fromBase64Url(requestText);
  if (!bytes) return { refused: 'the token request is not base64url' };
  let request: InstanceType<typeof TokenRequest>;
  try {
    request = TokenRequest.deserialize(TOKEN_TYPES.BLIND_RSA, bytes);
  } catch (e) {
    return { refused: `the token request is not a blind RSA TokenRequest: ${(e as Error).message}` };
  }
  const id = await keyId(key.publicKey);
  if (request.truncatedTokenKeyId !== id[id.length - 1]) return { refused: "the token request is for another key than this round's" };
  const privateKey = await crypto.subtle.importKey('pkcs8', own(key.privateKey), { name: 'RSA-RAW', hash: 'SHA-384' } as unknown as RsaHashedImportParams, false, ['sign']);
  const publicKey = await crypto.subtle.importKey('spki', spkiForWebCrypto(key.publicKey), RSA_PSS, true, ['verify']);
  try {
    const response = await new Issuer(MODE, 'vitrine', privateKey, publicKey, { supportsRSARAW: true }).issue(request);
    return { response: toBase64Url(response.serialize()) };
  } catch (e) {
    return { refused: `the blinded message cannot be signed: ${(e as Error).message}` };
  }
}

/** RFC 9578 encodes the key with the RSASSA-PSS OID; WebCrypto imports it as rsaEncryption. */
function spkiForWebCrypto(publicKey: Uint8Array): Uint8Array<ArrayBuffer> {
  return own(publicVerif.convertRSASSAPSSToEnc(publicKey));
}

/**
 * Checks a report's token for `site`'s round `round` under the round's public key: a blind RSA
 * token, made for this site and round's challenge and this key, with a valid signature. Answers
 * the token's id (its nonce, what the round's object remembers as spent), or why it is refused.
 */
export async function checkReportToken(text: string, site: string, round: number, publicKey: Uint8Array): Promise<{ id: string } | { refused: string }> {
  const bytes = fromBase64Url(text);
  if (!bytes) return { refused: 'the token is not base64url' };
  let token: Token;
  try {
    token = Token.deserialize(TOKEN_TYPES.BLIND_RSA, bytes);
  } catch (e) {
    return { refused: `the token is not a blind RSA token: ${(e as Error).message}` };
  }
  if (token.authInput.tokenType !== TOKEN_TYPES.BLIND_RSA.value) return { refused: 'the token is not of type 0x0002' };
  const challenge = new Uint8Array(await crypto.subtle.digest('SHA-256', own((await reportChallenge(site, round)).serialize())));
  if (!equalBytes(token.authInput.challengeDigest, challenge)) return { refused: `the token was not made for round ${round} of site ${site}` };
  if (!equalBytes(token.authInput.tokenKeyId, await keyId(publicKey))) return { refused: `the token was not signed with round ${round}'s key` };
  const key = await verifyingKey(publicKey);
  const valid = await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 48 }, key, own(token.authenticator), own(token.authInput.serialize()));
  if (!valid) return { refused: 'the token signature is not valid' };
  return { id: toBase64Url(token.authInput.nonce) };
}

/** Imported verifying keys, by their bytes (a round's key never changes): one import per round and isolate, not per report. */
const verifyingKeys = new Map<string, Promise<CryptoKey>>();
function verifyingKey(publicKey: Uint8Array): Promise<CryptoKey> {
  const id = toBase64Url(publicKey);
  let key = verifyingKeys.get(id);
  if (!key) {
    if (verifyingKeys.size > 1000) verifyingKeys.clear();
    key = crypto.subtle.importKey('spki', spkiForWebCrypto(publicKey), RSA_PSS, false, ['verify']);
    verifyingKeys.set(id, key);
  }
  return key;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
