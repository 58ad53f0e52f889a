/**
 * Client keys per network and round (edge-worker/src/client-key.ts), against a client holding a
 * whole IPv6 /64 (every phone and home router does) or many networks: attacks first.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_FAILURES_PER_MINUTE } from '../../edge-worker/src/admin-auth.ts';
import { clientKey, clientNetwork } from '../../edge-worker/src/client-key.ts';
import { admin, currentRoundId, expectOk, reportToken, SHOP_ORIGIN, tokenOf } from './edge-helpers.ts';

const SITE = 'networks';

describe('the network a client key covers', () => {
  it('an IPv4 address; an IPv6 address by its /64 (or /56), however it is written', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('2001:db8:1:2:a:b:c:d')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:0DB8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2::1.2.3.4')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientNetwork('2001:db8:1:2ff::1', 56)).toBe('2001:db8:1:200::/56');
    expect(clientNetwork('2001:db8:1:2ff::1', 56)).toBe(clientNetwork('2001:db8:1:200::9', 56));
    expect(clientNetwork('2001:db8:1:2ff::1', 64)).not.toBe(clientNetwork('2001:db8:1:200::9', 64));
    expect(clientNetwork('not an address')).toBe('not an address');
    expect(clientNetwork('1::2::3')).toBe('1::2::3');
  });

  it('a token key hashes the round, not the day: a round that crosses midnight gives no fresh allowance', async () => {
    const at = (address: string) => new Request('http://edge.test/', { headers: { 'cf-connecting-ip': address } });
    const key = (address: string, round: number) => clientKey(at(address), 'salt', 'token:site', `round ${round}`);
    expect(await key('2001:db8:1:2::1', 7)).toBe(await key('2001:db8:1:2::ffff', 7));
    expect(await key('2001:db8:1:2::1', 7)).not.toBe(await key('2001:db8:1:3::1', 7));
    expect(await key('2001:db8:1:2::1', 7)).not.toBe(await key('2001:db8:1:2::1', 8));
  });
});

describe('report tokens per network and round', () => {
  beforeAll(async () => {
    await expectOk(admin(`/v1/admin/sites/${SITE}`, 'PUT', { name: 'Networks', allowedOrigins: [SHOP_ORIGIN], tokensPerAddress: 3 }, tokenOf(SITE)));
  });

  it('attack: ten addresses of one /64 get the allowance of one (3), not ten; another /64 gets its own', async () => {
    const round = await currentRoundId(SITE);
    const got = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => reportToken(SITE, round, `2001:db8:7:7::${(i + 1).toString(16)}`)));
    expect(got.filter((g) => g.status === 'fulfilled')).toHaveLength(3);
    expect(String((got.find((g) => g.status === 'rejected') as PromiseRejectedResult).reason)).toContain('report tokens for this round');
    expect(await reportToken(SITE, round, '2001:db8:7:8::1')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('with ipv6Prefix 56 a site counts a whole /56 as one network', async () => {
    await expectOk(
      admin(`/v1/admin/sites/${SITE}`, 'PUT', { name: 'Networks', allowedOrigins: [SHOP_ORIGIN], tokensPerAddress: 3, ipv6Prefix: 56 }, tokenOf(SITE)),
    );
    const round = await currentRoundId(SITE);
    const got = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => reportToken(SITE, round, `2001:db8:9:${(0x100 + i).toString(16)}::1`)));
    expect(got.filter((g) => g.status === 'fulfilled')).toHaveLength(3);
    const refused = await admin(`/v1/admin/sites/${SITE}`, 'PUT', { name: 'Networks', allowedOrigins: [], ipv6Prefix: 48 }, tokenOf(SITE));
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ detail: expect.stringContaining('ipv6Prefix') });
  });
});

describe('wrong admin tokens, per site, from every network together', () => {
  it(`attack: guesses from many networks meet a 429 within ${2 * ADMIN_FAILURES_PER_MINUTE + 1}, each network under its own limit`, async () => {
    // Each guess from another /64: the per-network limit never applies. The count is per minute,
    // so a run that crosses into the next minute counts again there: whatever the clock, the
    // lockout comes by guess 2 x limit + 1.
    const statuses: number[] = [];
    for (let i = 0; i < 2 * ADMIN_FAILURES_PER_MINUTE + 1; i++) {
      const r = await admin(`/v1/admin/sites/${SITE}/privacy`, 'GET', undefined, `a-wrong-guess-number-${i}-0000`, {
        'cf-connecting-ip': `2001:db8:a:${i.toString(16)}::1`,
      });
      statuses.push(r.status);
      if (r.status === 429) {
        expect(await r.json()).toMatchObject({ error: 'admin_locked', detail: expect.stringContaining(SITE) });
        break;
      }
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 403)).toBe(true);
    expect(statuses.length).toBeGreaterThan(ADMIN_FAILURES_PER_MINUTE);
    // Another site's admin API is not locked.
    expect((await admin('/v1/admin/sites/windows/privacy', 'GET', undefined, tokenOf('windows'))).status).not.toBe(429);
  });
});
