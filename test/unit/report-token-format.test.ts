/**
 * The device's report token without libraries (widget/engine/report-token-blinding.ts,
 * protocol/report-token.ts) against the Privacy Pass libraries the edge issues with: the same
 * challenge bytes, the issuer's published key read the same, a PSS encoding the platform's own
 * RSASSA-PSS verification accepts, and a token request the library's Issuer signs into a token
 * the library's verification accepts.
 */
import { TokenChallenge as LibraryChallenge, Token } from '@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js';
import * as publicVerif from '@cloudflare/privacypass-ts/lib/src/pub_verif_token.js';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, REPORT_TOKEN_TYPE, reportChallenge, TOKEN_BYTES, TOKEN_REQUEST_BYTES, TokenChallenge } from '../../protocol/report-token.ts';
import { blindTokenRequest, bytesToBigInt, bigIntToBytes, emsaPssEncode, importIssuerKey, modPow } from '../../widget/engine/report-token-blinding.ts';

const { BlindRSAMode, Issuer, TokenRequest, getPublicKeyBytes, convertRSASSAPSSToEnc } = publicVerif;
const issuerKeys = Issuer.generateKey(BlindRSAMode.PSS, { modulusLength: 2048, publicExponent: Uint8Array.from([1, 0, 1]) });

describe('report tokens without the libraries', () => {
  it("serializes a challenge to the library's bytes", async () => {
    const ours = await reportChallenge('shop-1', 20791);
    const theirs = new LibraryChallenge(ours.tokenType, ours.issuerName, ours.redemptionContext, ours.originInfo);
    expect([...ours.serialize()]).toEqual([...new Uint8Array(theirs.serialize())]);
    const several = new TokenChallenge(2, 'issuer.example', new Uint8Array(0), ['a.example', 'b.example']);
    expect([...several.serialize()]).toEqual([
      ...new Uint8Array(new LibraryChallenge(2, 'issuer.example', new Uint8Array(0), ['a.example', 'b.example']).serialize()),
    ]);
  });

  it("reads the issuer's published key (RSASSA-PSS SubjectPublicKeyInfo) as the library does, and refuses garbage", async () => {
    const { publicKey } = await issuerKeys;
    const published = await getPublicKeyBytes(publicKey);
    const ours = await crypto.subtle.exportKey('jwk', await importIssuerKey(published));
    const theirs = await crypto.subtle.exportKey('jwk', publicKey);
    expect(ours.n).toBe(theirs.n);
    expect(ours.e).toBe(theirs.e);
    // The rsaEncryption form reads the same.
    expect((await crypto.subtle.exportKey('jwk', await importIssuerKey(convertRSASSAPSSToEnc(published)))).n).toBe(theirs.n);
    await expect(importIssuerKey(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x05]))).rejects.toThrow(/invalid parameters/);
    await expect(importIssuerKey(published.slice(0, 40))).rejects.toThrow();
  });

  it("encodes with EMSA-PSS so that the platform's RSASSA-PSS verification accepts the raw signature", async () => {
    const { publicKey, privateKey } = await issuerKeys;
    const jwk = await crypto.subtle.exportKey('jwk', privateKey);
    const [n, d] = [bytesToBigInt(fromBase64Url(jwk.n!)!), bytesToBigInt(fromBase64Url(jwk.d!)!)];
    const message = new TextEncoder().encode('a token input');
    const encoded = await emsaPssEncode(message, 2047, 'SHA-384', 48);
    const signature = bigIntToBytes(modPow(bytesToBigInt(encoded), d, n), 256);
    expect(await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 48 }, publicKey, signature, message)).toBe(true);
    expect(await crypto.subtle.verify({ name: 'RSA-PSS', saltLength: 48 }, publicKey, signature, new TextEncoder().encode('another'))).toBe(false);
  });

  it("makes a request the library's Issuer signs, and a token the library verifies", async () => {
    const { publicKey, privateKey } = await issuerKeys;
    const published = await getPublicKeyBytes(publicKey);
    const challenge = await reportChallenge('shop-1', 20791);
    const blinded = await blindTokenRequest(REPORT_TOKEN_TYPE, challenge.serialize(), published);
    expect(blinded.request.length).toBe(TOKEN_REQUEST_BYTES);
    const issuer = new Issuer(BlindRSAMode.PSS, 'vitrine', privateKey, publicKey);
    const response = await issuer.issue(TokenRequest.deserialize(publicVerif.BLIND_RSA, blinded.request));
    const tokenBytes = await blinded.finalize(response.serialize());
    expect(tokenBytes.length).toBe(TOKEN_BYTES);
    const token = Token.deserialize(publicVerif.BLIND_RSA, tokenBytes);
    expect(await issuer.verify(token)).toBe(true);
    expect([...token.authInput.challengeDigest]).toEqual([...new Uint8Array(await crypto.subtle.digest('SHA-256', challenge.serialize()))]);
  });
});
