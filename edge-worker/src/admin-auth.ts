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

/** Wrong admin tokens a site takes per minute, from every network together, before it answers 429 to all until the minute ends. */
export const ADMIN_FAILURES_PER_MINUTE = 100;

/**
 * requireSiteAdmin, with wrong tokens counted per site and minute whatever network they come from
 * (the per-network rate limit alone let an attacker holding many networks guess on): past
 * ADMIN_FAILURES_PER_MINUTE the site's admin API answers 429 for the rest of the minute, its own
 * admin's token included (a lockout of a minute, not of the guesser alone). A request with no
 * usable token (401) is not a guess and is not counted. Requests checked at the same moment may
 * all pass the count before any is written: the limit is a ceiling up to that concurrency.
 */
export async function requireSiteAdminCounted(db: D1Database, request: Request, secret: string | undefined, site: string, now = Date.now()): Promise<void> {
  const minute = Math.floor(now / 60_000);
  const row = await db.prepare('SELECT failures FROM admin_failures WHERE site = ? AND minute = ?').bind(site, minute).first<{ failures: number }>();
  if ((row?.failures ?? 0) >= ADMIN_FAILURES_PER_MINUTE) {
    throw new HttpError(
      429,
      'admin_locked',
      `site ${site} has had ${ADMIN_FAILURES_PER_MINUTE} wrong admin tokens this minute; its admin API answers again from the next minute`,
    );
  }
  try {
    await requireSiteAdmin(request, secret, site);
  } catch (e) {
    if (e instanceof HttpError && e.status === 403) {
      await db.batch([
        db
          .prepare('INSERT INTO admin_failures (site, minute, failures) VALUES (?, ?, 1) ON CONFLICT (site, minute) DO UPDATE SET failures = failures + 1')
          .bind(site, minute),
        db.prepare('DELETE FROM admin_failures WHERE minute < ?').bind(minute - 10),
      ]);
    }
    throw e;
  }
}
