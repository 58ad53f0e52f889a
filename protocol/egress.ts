/**
 * Everything a device may send off the page, declared in one place. The end-to-end tests check
 * every request the storefront page makes against this list: anything not declared here, or a
 * body that does not match its schema, fails the test.
 */
import * as v from 'valibot';
import { TokenRequestSchema } from './report-token.ts';
import { ReportSchema } from './wire.ts';

interface EgressRule {
  method: 'GET' | 'POST';
  path: RegExp;
  /** Schema of the JSON body; GETs carry none. */
  body?: v.GenericSchema;
}

export const DEVICE_EGRESS: readonly EgressRule[] = [
  { method: 'GET', path: /^\/v1\/vitrine\.js$/ },
  { method: 'GET', path: /^\/v1\/chunks\/[\w.-]+$/ },
  { method: 'GET', path: /^\/v1\/sites\/[a-z0-9-]+\/config$/ },
  { method: 'GET', path: /^\/v1\/models\/[0-9a-f]{16}\/(model\.json|weights\.bin)$/ },
  // A round's public token key, and a blinded token request (nothing in it but random-looking bytes).
  { method: 'GET', path: /^\/v1\/sites\/[a-z0-9-]+\/rounds\/\d+\/token-key$/ },
  { method: 'POST', path: /^\/v1\/sites\/[a-z0-9-]+\/tokens$/, body: TokenRequestSchema },
  { method: 'POST', path: /^\/v1\/sites\/[a-z0-9-]+\/reports$/, body: ReportSchema },
];

/** Why a request to the edge is not allowed to leave the device, or null when it is. */
export function egressViolation(method: string, url: URL, body: string | null): string | null {
  if (url.search) return `query string on ${url.pathname}`;
  const rule = DEVICE_EGRESS.find((r) => r.method === method && r.path.test(url.pathname));
  if (!rule) return `undeclared ${method} ${url.pathname}`;
  if (!rule.body) return body ? `unexpected body on ${method} ${url.pathname}` : null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return `body of ${method} ${url.pathname} is not JSON`;
  }
  const result = v.safeParse(rule.body, parsed);
  return result.success ? null : `body of ${method} ${url.pathname}: ${result.issues[0].message}`;
}
