/** A report token's big-number steps on the device, the library's arithmetic against the engine's BigInt. */
import { RSABSSA } from '@cloudflare/blindrsa-ts';
import { withNativeBigIntegers } from '../widget/engine/report-token-blinding.ts';
import { round } from './bench-common.ts';
import type { Figures } from './bench-common.ts';

/** The device's Blind and Finalize of a report token, the library's against the engine's (both run the same RFC 9474 steps). */
export async function tokenBench(results: Figures): Promise<void> {
  const library = RSABSSA.SHA384.PSS.Deterministic();
  const suites = { library, bigint: withNativeBigIntegers(library) };
  const { publicKey, privateKey } = await RSABSSA.SHA384.generateKey({ modulusLength: 2048, publicExponent: Uint8Array.from([1, 0, 1]) });
  const message = crypto.getRandomValues(new Uint8Array(98)); // a token input's length (RFC 9578)
  for (const [name, suite] of Object.entries(suites)) {
    let blind = 0;
    let finalize = 0;
    const runs = 40;
    for (let i = 0; i < runs + 2; i++) {
      const a = performance.now();
      const { blindedMsg, inv } = await suite.blind(publicKey, message);
      const b = performance.now();
      const blindSig = await library.blindSign(privateKey, blindedMsg);
      const c = performance.now();
      await suite.finalize(publicKey, message, blindSig, inv);
      const d = performance.now();
      if (i < 2) continue; // warm-up
      blind += b - a;
      finalize += d - c;
    }
    results[`token_blind_ms_${name}`] = round(blind / runs);
    results[`token_finalize_ms_${name}`] = round(finalize / runs);
  }
}
