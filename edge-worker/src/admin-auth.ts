/**
 * Admin authentication: one bearer token per site, held in the ADMIN_TOKENS secret (a JSON
 * object site -> token). Tokens are compared as SHA-256 digests with timingSafeEqual, so
 * neither the comparison nor the token's length leaks through timing.
 */
import { HttpError } from './http-error.ts';

function parseTokens(secret: string | undefined): Record<string, string> {
  try {
    const tokens = JSON.parse(secret ?? '{}') as unknown;
    if (tokens && typeof tokens === 'object' && !Array.isArray(tokens)) return tokens as Record<string, string>;
  } catch {
    // fall through: a broken secret locks the admin API rather than opening it
  }
  console.error('ADMIN_TOKENS is not a JSON object of site -> token; every admin request will be refused');
  return {};
}

async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest('SHA-256', enc.encode(a)), crypto.subtle.digest('SHA-256', enc.encode(b))]);
  // timingSafeEqual is a Workers extension of SubtleCrypto (the DOM typings do not know it).
  return (crypto.subtle as unknown as { timingSafeEqual(a: ArrayBuffer, b: ArrayBuffer): boolean }).timingSafeEqual(da, db);
}

/** Throws 401 without a usable bearer token, 403 when the token is not this site's. */
export async function requireSiteAdmin(request: Request, secret: string | undefined, site: string): Promise<void> {
  const header = request.headers.get('authorization') ?? '';
  const match = /^Bearer\s+(\S{16,512})$/i.exec(header);
  if (!match) throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <the site admin token>');
  const tokens = parseTokens(secret);
  const expected = tokens[site];
  if (typeof expected === 'string' && (await sameSecret(match[1]!, expected))) return;
  throw new HttpError(403, 'forbidden', `this token is not the admin token of site ${site}`);
}
