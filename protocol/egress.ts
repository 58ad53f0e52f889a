/**
 * Everything a device may send off the page, declared in one place. The end-to-end tests check
 * every request that reaches the edge against this list: anything not declared here, a body that
 * does not match its declaration, or a header that could carry something the declaration does
 * not allow (an Authorization the rule does not name, any Cookie), fails the test.
 */
import * as v from 'valibot';
import { TOKEN_REQUEST_BYTES, TOKEN_REQUEST_TYPE, tokenOfAuthorization, TokenRequestSchema } from './report-token.ts';
import { ReportSchema } from './wire.ts';

type Body =
  /** JSON (sent as text/plain or application/json) matching the schema. */
  | { json: v.GenericSchema }
  /** Exactly `bytes` opaque bytes of this content type (a blinded token request: nothing in it but random-looking bytes). */
  | { bytes: number; contentType: string };

interface EgressRule {
  method: 'GET' | 'POST' | 'OPTIONS';
  path: RegExp;
  /** What the body may be; GETs and preflights carry none. */
  body?: Body;
  /** The request may carry a report token in `Authorization: PrivateToken token=...` (RFC 9577). */
  privateToken?: true;
}

const SITE = '[a-z0-9-]+';

export const DEVICE_EGRESS: readonly EgressRule[] = [
  { method: 'GET', path: /^\/v1\/vitrine\.js$/ },
  { method: 'GET', path: /^\/v1\/chunks\/[\w.-]+$/ },
  { method: 'GET', path: new RegExp(`^/v1/sites/${SITE}/config$`) },
  { method: 'GET', path: /^\/v1\/models\/[0-9a-f]{16}\/(model\.json|weights\.bin)$/ },
  // A round's public token key, and a blinded token request (RFC 9578; the JSON form of widgets of the previous release).
  { method: 'GET', path: new RegExp(`^/v1/sites/${SITE}/rounds/\\d+/token-key$`) },
  { method: 'POST', path: new RegExp(`^/v1/sites/${SITE}/rounds/\\d+/token-request$`), body: { bytes: TOKEN_REQUEST_BYTES, contentType: TOKEN_REQUEST_TYPE } },
  { method: 'POST', path: new RegExp(`^/v1/sites/${SITE}/tokens$`), body: { json: TokenRequestSchema } },
  // A report: its token in the Authorization header (the engine's own), or in the body (a page's keepalive report).
  { method: 'POST', path: new RegExp(`^/v1/sites/${SITE}/reports$`), body: { json: ReportSchema }, privateToken: true },
  // The browser's CORS preflights of the two requests above that need one: no body, nothing of the shopper's.
  { method: 'OPTIONS', path: new RegExp(`^/v1/sites/${SITE}/(reports|rounds/\\d+/token-request)$`) },
];

/** The headers of a request that the declaration governs (names in lower case). */
export interface EgressHeaders {
  authorization?: string | undefined;
  cookie?: string | undefined;
  'content-type'?: string | undefined;
}

/** Why a request to the edge is not allowed to leave the device, or null when it is. */
export function egressViolation(method: string, url: URL, body: Uint8Array | null, headers: EgressHeaders = {}): string | null {
  const where = `${method} ${url.pathname}`;
  if (url.search) return `query string on ${url.pathname}`;
  const rule = DEVICE_EGRESS.find((r) => r.method === method && r.path.test(url.pathname));
  if (!rule) return `undeclared ${where}`;
  if (headers.cookie) return `a cookie on ${where}`;
  if (headers.authorization !== undefined && !(rule.privateToken && tokenOfAuthorization(headers.authorization) !== null)) {
    return `an Authorization header on ${where} that is not a report token`;
  }
  const declared = rule.body;
  const sent = body && body.length > 0 ? body : null;
  if (!declared) return sent ? `unexpected body on ${where}` : null;
  if ('bytes' in declared) {
    const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== declared.contentType) return `body of ${where} is not ${declared.contentType}`;
    return sent?.length === declared.bytes ? null : `body of ${where} is ${sent?.length ?? 0} bytes, not ${declared.bytes}`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(sent ?? new Uint8Array()));
  } catch {
    return `body of ${where} is not JSON`;
  }
  const result = v.safeParse(declared.json, parsed);
  return result.success ? null : `body of ${where}: ${result.issues[0].message}`;
}
