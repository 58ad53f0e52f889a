/**
 * The client's Blind and Finalize in BigInt (widget/engine/report-token-blinding.ts) against the
 * library's own (@cloudflare/blindrsa-ts, sjcl): each side's blinded message signed by the
 * library's signer and finalized by either side gives a signature the platform's RSASSA-PSS
 * verification accepts; a signature of another key, or a wrong unblinding, is refused.
 */
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, modInverse, modPow, withNativeBigIntegers } from '../../widget/engine/report-token-blinding.ts';

describe('big-number helpers', () => {
  it('modPow and modInverse agree with small-number arithmetic', () => {
    for (const n of [7n, 15n, 221n, 65537n * 3n]) {
      for (let x = 1n; x < 40n; x++) {
        let expected = 1n;
        for (let k = 0n; k < 13n; k++) expected = (expected * x) % n;
        expect(modPow(x, 13n, n)).toBe(expected);
        const inv = modInverse(x, n);
        const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
        if (gcd(x, n) === 1n) expect((x * inv!) % n).toBe(1n);
        else expect(inv).toBeNull();
      }
    }
  });

  it('bytes and integers convert both ways, big-endian, and a number too long for its bytes is refused', () => {
    const bytes = Uint8Array.from([0, 1, 2, 255, 128]);
    expect(bytesToBigInt(bytes)).toBe(0x0102ff80n);
    expect([...bigIntToBytes(0x0102ff80n, 5)]).toEqual([...bytes]);
    expect(() => bigIntToBytes(0x0102ff80n, 3)).toThrow(/does not fit/);
  });
});

describe('Blind and Finalize in BigInt, against the library', () => {
  const library = RSABSSA.SHA384.PSS.Deterministic();
  const native = withNativeBigIntegers(library);
  const keys = RSABSSA.SHA384.generateKey({ modulusLength: 2048, publicExponent: Uint8Array.from([1, 0, 1]) });
  const message = new TextEncoder().encode('a token input of this round');

  it('blinded by either side, signed by the library, finalized by either side: a valid RSA-PSS signature', async () => {
    const { publicKey, privateKey } = await keys;
    for (const blinder of [native, library]) {
      for (const finisher of [native, library]) {
        const { blindedMsg, inv } = await blinder.blind(publicKey, message);
        const blindSig = await library.blindSign(privateKey, blindedMsg);
        const sig = await finisher.finalize(publicKey, message, blindSig, inv);
        expect(await library.verify(publicKey, sig, message)).toBe(true);
        expect(await library.verify(publicKey, sig, new TextEncoder().encode('another message'))).toBe(false);
      }
    }
  });

  it('blinds with fresh randomness: the same message blinds differently every time', async () => {
    const { publicKey } = await keys;
    const a = await native.blind(publicKey, message);
    const b = await native.blind(publicKey, message);
    expect(Buffer.from(a.blindedMsg).equals(Buffer.from(b.blindedMsg))).toBe(false);
    expect(a.blindedMsg.length).toBe(256);
  });

  it('refuses a blind signature made with another key, and a wrong unblinding', async () => {
    const { publicKey, privateKey } = await keys;
    const other = await RSABSSA.SHA384.generateKey({ modulusLength: 2048, publicExponent: Uint8Array.from([1, 0, 1]) });
    // The other key signs only numbers below its own modulus, and a blinded message is uniform
    // below this key's: blinded again until the other key can sign it (CI once drew one it could
    // not: "signature representative out of range").
    let blinded: Awaited<ReturnType<typeof native.blind>>;
    let byOther: Uint8Array | null;
    let tries = 0;
    do {
      blinded = await native.blind(publicKey, message);
      byOther = await library.blindSign(other.privateKey, blinded.blindedMsg).catch(() => null);
    } while (byOther === null && ++tries < 21);
    expect(byOther).not.toBeNull();
    const { blindedMsg, inv } = blinded;
    await expect(native.finalize(publicKey, message, byOther!, inv)).rejects.toThrow(/invalid signature/);
    const wrong = inv.slice();
    wrong[wrong.length - 1] = wrong[wrong.length - 1]! ^ 1;
    await expect(native.finalize(publicKey, message, await library.blindSign(privateKey, blindedMsg), wrong)).rejects.toThrow(/invalid signature/);
    await expect(native.finalize(publicKey, message, new Uint8Array(10), inv)).rejects.toThrow(/unexpected input size/);
  });
});
