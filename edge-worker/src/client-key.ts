/**
 * Who is sending, for report tokens and rate limits only, without knowing who: a SHA-256 of a
 * secret salt, a scope, a time bucket and the client's network. The address itself is never
 * stored or logged. The salt is the CLIENT_KEY_SALT secret (the admin tokens, which are secret
 * too, when it is not set).
 *
 * The network, not the address: an IPv6 client holds a whole /64 (every phone and home router
 * gets one), so a key per address gave one /64 unlimited keys (10 addresses of one /64 got 10
 * times the token allowance, and 330 wrong admin tokens never met a 429). An IPv4 key is the
 * address (a household or carrier NAT shares it, which the allowance per address is sized for);
 * an IPv6 key its /64, or its /56 where the site says so.
 */
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The eight 16-bit groups of an IPv6 address (with :: and a dotted IPv4 tail expanded), or null. */
function ipv6Groups(text: string): number[] | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const pieces = s.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      const v4 = i === pieces.length - 1 ? IPV4.exec(p) : null;
      if (v4) {
        const b = v4.slice(1).map(Number);
        if (b.some((x) => x > 255)) return null;
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-f]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const left = part(halves[0]!);
  const right = halves.length === 2 ? part(halves[1]!) : [];
  if (!left || !right) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}

/**
 * The network a client address belongs to, as a key's text: an IPv4 address itself (an
 * IPv4-mapped IPv6 one too); an IPv6 address's first `ipv6Prefix` bits (64 or 56); anything
 * else as it came.
 */
export function clientNetwork(address: string, ipv6Prefix: 56 | 64 = 64): string {
  const a = address.trim().toLowerCase().split('%')[0]!;
  if (IPV4.test(a)) return a;
  const groups = ipv6Groups(a);
  if (!groups) return a;
  if (groups.slice(0, 6).every((g, i) => (i === 5 ? g === 0xffff : g === 0)))
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  const kept = groups.slice(0, 4);
  if (ipv6Prefix === 56) kept[3] = kept[3]! & 0xff00;
  return `${kept.map((g) => g.toString(16)).join(':')}::/${ipv6Prefix}`;
}

/** The key of a client's network within `scope` and time `bucket` (a round, for report tokens; a day, for rate limits). */
export async function clientKey(request: Request, salt: string, scope: string, bucket: string, ipv6Prefix: 56 | 64 = 64): Promise<string> {
  const network = clientNetwork(request.headers.get('cf-connecting-ip') ?? 'unknown', ipv6Prefix);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${salt}|${bucket}|${scope}|${network}`));
  return Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Counts the request against `limiter` under the client network's key within `scope` (a site, or
 * a site's admin API), and refuses it with a 429 past the limit. Called before the body is read:
 * a flooding client costs one digest and one counter per request.
 */
export async function enforceRateLimit(
  env: Env,
  limiter: 'REPORT_LIMITER' | 'READ_LIMITER' | 'ADMIN_LIMITER',
  request: Request,
  scope: string,
  what: string,
): Promise<void> {
  const day = `day ${Math.floor(Date.now() / 86_400_000)}`;
  const key = await clientKey(request, env.CLIENT_KEY_SALT ?? env.ADMIN_TOKENS, scope, day);
  if (!(await env[limiter].limit({ key })).success) throw new HttpError(429, 'rate_limited', `too many ${what} from this network; retry in a minute`);
}
