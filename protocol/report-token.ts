/**
 * Report tokens: how the edge lets each device send one report per round without learning who
 * the device is. Privacy Pass (RFC 9576/9578) with publicly verifiable blind RSA tokens (token
 * type 0x0002, RSABSSA-SHA384-PSS-Deterministic, RFC 9474), from @cloudflare/privacypass-ts:
 *
 * - every round has its own issuing key, made by the round's Durable Object; its public part is
 *   served to every device alike (GET /v1/sites/:site/rounds/:round/token-key);
 * - a device blinds a token request for the round's challenge and the edge signs it
 *   (POST /v1/sites/:site/tokens), a limited number of times per client address and round;
 * - the device unblinds the signature into a token and sends it in its report; the edge checks
 *   the signature and the challenge, and the round's object refuses a token it has seen.
 *
 * On the wire it is standard Privacy Pass: issuance per RFC 9578 (a TokenRequest posted as
 * `application/private-token-request` to the round's issuer URL, the blind signature answered as
 * `application/private-token-response`), redemption in an `Authorization: PrivateToken token=...`
 * header (RFC 9577), so a stock client (the library's own `Client`) obtains and spends them. Two
 * exceptions, documented in PRIVACY.md: a report a page sends as it goes away (a keepalive fetch,
 * which must not need a CORS preflight) carries its token in its body, and the JSON form of
 * issuance (POST .../tokens) is kept for widgets of the previous release.
 *
 * The edge never sees the token it signs, so a report's token cannot be linked to the request
 * that obtained it (or to the address it came from). Because the key is the round's own, a
 * token obtained in one round is worthless in every other, whatever challenge it was made for.
 */
import * as v from 'valibot';

/** Token type 0x0002 (blind RSA, 2048-bit, SHA-384, PSS): the publicly verifiable kind. */
export const REPORT_TOKEN_TYPE = 0x0002;
export const TOKEN_ISSUER_NAME = 'vitrine-edge';

/**
 * The challenge a round's tokens answer: its redemption context is a digest of site and round,
 * and the origin info the site, so a token is only ever good for one site's one round.
 */
export async function reportChallenge(site: string, round: number): Promise<TokenChallenge> {
  const context = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`vitrine report token|${site}|${round}`)));
  return new TokenChallenge(REPORT_TOKEN_TYPE, TOKEN_ISSUER_NAME, context, [site]);
}

/**
 * RFC 9577's TokenChallenge (token_type, issuer_name<1..2^16-1>, redemption_context<0..32>,
 * origin_info<0..2^16-1>, the origins joined by commas), serialized here rather than by
 * privacypass-ts, whose module brings a header parser and base64 library to every shopper. Its
 * bytes equal the library's (test/unit/report-token-format.test.ts); standard clients take it.
 */
export class TokenChallenge {
  constructor(
    readonly tokenType: number,
    readonly issuerName: string,
    readonly redemptionContext: Uint8Array,
    readonly originInfo: string[],
  ) {}

  serialize(): Uint8Array<ArrayBuffer> {
    const text = new TextEncoder();
    const issuer = text.encode(this.issuerName);
    const origins = text.encode(this.originInfo.join(','));
    return concatBytes(
      uint16Bytes(this.tokenType),
      uint16Bytes(issuer.length),
      issuer,
      Uint8Array.of(this.redemptionContext.length),
      this.redemptionContext,
      uint16Bytes(origins.length),
      origins,
    );
  }
}

/** A 16-bit unsigned integer in network byte order. */
export function uint16Bytes(value: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value);
  return out;
}

/** The parts' bytes one after another (the wire formats here are such concatenations). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** null when `text` is not base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A serialized token (2 + 32 + 32 + 32 + 256 bytes) in base64url. */
export const TOKEN_TEXT = v.pipe(v.string(), v.maxLength(600), v.regex(BASE64URL, 'a token is base64url'));

/** What GET .../rounds/:round/token-key answers: the round's public key (SPKI, RSASSA-PSS) in base64url. */
export const TokenKeyAnswerSchema = v.strictObject({
  site: v.string(),
  round: v.pipe(v.number(), v.integer(), v.minValue(0)),
  tokenType: v.literal(REPORT_TOKEN_TYPE),
  publicKey: v.pipe(v.string(), v.maxLength(1000), v.regex(BASE64URL)),
});
export type TokenKeyAnswer = v.InferOutput<typeof TokenKeyAnswerSchema>;

/** What a device sends to obtain a token: the round and its blinded TokenRequest (RFC 9578), base64url. */
export const TokenRequestSchema = v.strictObject({
  round: v.pipe(v.number(), v.integer(), v.minValue(0)),
  request: v.pipe(v.string(), v.maxLength(600), v.regex(BASE64URL, 'a token request is base64url')),
});

export const TokenResponseSchema = v.strictObject({ round: v.number(), response: v.pipe(v.string(), v.maxLength(600), v.regex(BASE64URL)) });

/** RFC 9578 media types of issuance. */
export const TOKEN_REQUEST_TYPE = 'application/private-token-request';
export const TOKEN_RESPONSE_TYPE = 'application/private-token-response';

/** The exact sizes of a type 0x0002 exchange with a 2048-bit key (Nk = 256): a TokenRequest (2 + 1 + Nk), its response (Nk), a Token (2 + 32 + 32 + 32 + Nk). */
export const TOKEN_REQUEST_BYTES = 259;
export const TOKEN_RESPONSE_BYTES = 256;
export const TOKEN_BYTES = 354;

/** The issuer URL path of a site's round: where its TokenRequests go. */
export function tokenRequestPath(site: string, round: number): string {
  return `/v1/sites/${encodeURIComponent(site)}/rounds/${round}/token-request`;
}

/** The redemption header of a token (RFC 9577): `PrivateToken token=<base64url>`. */
export function privateTokenAuthorization(token: string): string {
  return `PrivateToken token=${token}`;
}

/**
 * The token of an `Authorization: PrivateToken token=...` header (quoted or not; RFC 9577), null
 * when the header is another scheme or malformed.
 */
export function tokenOfAuthorization(header: string): string | null {
  const match = /^PrivateToken\s+token="?([A-Za-z0-9_-]{1,600}={0,2})"?\s*$/i.exec(header.trim());
  return match ? match[1]!.replace(/=+$/, '') : null;
}
