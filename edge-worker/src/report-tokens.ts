/**
 * The edge's half of report tokens (protocol/report-token.ts): the round's issuing key, signing
 * blinded requests, and checking a report's token. Spending a token (once) is the round's
 * Durable Object's job: it is the one serialized place that sees every report of the round.
 */
import * as publicVerif from '@cloudflare/privacypass-ts/lib/src/pub_verif_token.js';
import { Token } from '@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js';

import { fromBase64Url, reportChallenge, TOKEN_BYTES, TOKEN_REQUEST_BYTES, toBase64Url } from '../../protocol/report-token.ts';

const TOKEN_TYPES = { BLIND_RSA: publicVerif.BLIND_RSA };
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

/** What signing a blinded request answers: the TokenResponse (the blind signature, TOKEN_RESPONSE_BYTES), or why not. */
export type SignAnswer = { response: Uint8Array } | { refused: string };

/**
 * Signing with a round's key, made ready once (keys imported, key id computed) and kept by the
 * round's object: each request then costs only its parsing and the signature. The edge never
 * sees the token a signature becomes. (workerd signs with its native RSA-RAW; the library's
 * big-number fallback is for runtimes without it.)
 */
export async function tokenSigner(key: TokenKeyPair): Promise<(request: Uint8Array) => Promise<SignAnswer>> {
  const id = await keyId(key.publicKey);
  const privateKey = await crypto.subtle.importKey(
    'pkcs8',
    own(key.privateKey),
    { name: 'RSA-RAW', hash: 'SHA-384' } as unknown as Parameters<typeof crypto.subtle.importKey>[2],
    false,
    ['sign'],
  );
  const publicKey = await crypto.subtle.importKey('spki', spkiForWebCrypto(key.publicKey), RSA_PSS, true, ['verify']);
  const issuer = new Issuer(MODE, 'vitrine', privateKey, publicKey, { supportsRSARAW: true });
  return async (bytes) => {
    // Exactly a TokenRequest: the library reads what it needs and would let trailing bytes pass.
    if (bytes.length !== TOKEN_REQUEST_BYTES) return { refused: `a token request of type 0x0002 is ${TOKEN_REQUEST_BYTES} bytes (got ${bytes.length})` };
    let request: InstanceType<typeof TokenRequest>;
    try {
      request = TokenRequest.deserialize(TOKEN_TYPES.BLIND_RSA, bytes);
    } catch (e) {
      return { refused: `the token request is not a blind RSA TokenRequest: ${(e as Error).message}` };
    }
    if (request.truncatedTokenKeyId !== id[id.length - 1]) return { refused: "the token request is for another key than this round's" };
    try {
      return { response: (await issuer.issue(request)).serialize() };
    } catch (e) {
      return { refused: `the blinded message cannot be signed: ${(e as Error).message}` };
    }
  };
}

/** RFC 9578 encodes the key with the RSASSA-PSS OID; WebCrypto imports it as rsaEncryption. */
function spkiForWebCrypto(publicKey: Uint8Array): Uint8Array<ArrayBuffer> {
  return own(publicVerif.convertRSASSAPSSToEnc(publicKey));
}

/** What checking a report's token answers: the token's id (its nonce, what the round's object remembers as spent), or why it is refused. */
export type CheckAnswer = { id: string } | { refused: string };

/** A round's public key, and the check of a report's token against it. */
export interface RoundTokenVerifier {
  publicKey: Uint8Array;
  check(text: string): Promise<CheckAnswer>;
}

/**
 * The check of `site`'s round `round` tokens under its public key, made ready once (the round's
 * challenge digest, key id and imported key) and kept by the worker's isolate: a blind RSA
 * token, made for this site and round's challenge and this key, with a valid signature.
 */
export async function roundTokenVerifier(site: string, round: number, publicKey: Uint8Array): Promise<RoundTokenVerifier> {
  const challenge = new Uint8Array(await crypto.subtle.digest('SHA-256', own((await reportChallenge(site, round)).serialize())));
  const id = await keyId(publicKey);
  const key = await crypto.subtle.importKey('spki', spkiForWebCrypto(publicKey), RSA_PSS, false, ['verify']);
  const check = async (text: string): Promise<CheckAnswer> => {
    const bytes = fromBase64Url(text);
    if (!bytes) return { refused: 'the token is not base64url' };
    // Exactly a Token: bytes appended to a valid one were accepted before (the parser stops at its fields).
    if (bytes.length !== TOKEN_BYTES) return { refused: `a token of type 0x0002 is ${TOKEN_BYTES} bytes (got ${bytes.length})` };
    let token: Token;
    try {
      token = Token.deserialize(TOKEN_TYPES.BLIND_RSA, bytes);
    } catch (e) {
      return { refused: `the token is not a blind RSA token: ${(e as Error).message}` };
    }
    if (token.authInput.tokenType !== TOKEN_TYPES.BLIND_RSA.value) return { refused: 'the token is not of type 0x0002' };
    if (!equalBytes(token.authInput.challengeDigest, challenge)) return { refused: `the token was not made for round ${round} of site ${site}` };
    if (!equalBytes(token.authInput.tokenKeyId, id)) return { refused: `the token was not signed with round ${round}'s key` };
    const valid = await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 48 }, key, own(token.authenticator), own(token.authInput.serialize()));
    if (!valid) return { refused: 'the token signature is not valid' };
    return { id: toBase64Url(token.authInput.nonce) };
  };
  return { publicKey, check };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
