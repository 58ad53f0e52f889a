/**
 * Who is sending, for rate limiting only, without knowing who: a SHA-256 of a secret salt, the
 * UTC day and the client address. The address itself is never stored or logged, and a key links
 * requests of one day only. The salt is the CLIENT_KEY_SALT secret (the admin tokens, which are
 * secret too, when it is not set).
 */
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';

export async function clientKey(request: Request, salt: string, site: string, now = Date.now()): Promise<string> {
  const address = request.headers.get('cf-connecting-ip') ?? 'unknown';
  const day = Math.floor(now / 86_400_000);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${salt}|${day}|${site}|${address}`));
  return Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Counts the request against `limiter` under the client's key within `scope` (a site, or a
 * site's admin API), and refuses it with a 429 past the limit. Called before the body is read:
 * a flooding client costs one digest and one counter per request.
 */
export async function enforceRateLimit(
  env: Env,
  limiter: 'REPORT_LIMITER' | 'READ_LIMITER' | 'ADMIN_LIMITER',
  request: Request,
  scope: string,
  what: string,
): Promise<void> {
  const key = await clientKey(request, env.CLIENT_KEY_SALT ?? env.ADMIN_TOKENS, scope);
  if (!(await env[limiter].limit({ key })).success) throw new HttpError(429, 'rate_limited', `too many ${what} from this client; retry in a minute`);
}
