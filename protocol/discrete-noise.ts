/**
 * Noise that survives floating point (Mironov 2012: the low bits of a textbook floating-point
 * Laplace or Gaussian sample reveal the value it was added to).
 *
 * Integer counts get discrete Gaussian noise (Canonne, Kamath and Steinke, "The Discrete
 * Gaussian for Differential Privacy", 2020, Algorithms 1-3), sampled with exact integer
 * arithmetic (BigInt) from uniform integers: the output is an integer and nothing about it
 * depends on rounding. Real-valued sums get Gaussian noise and are then snapped to a grid of
 * width `grid` (a power of two near the noise's standard deviation over 1024) and clamped,
 * after Mironov's snapping mechanism: the released value is a multiple of the grid, so the bits
 * below it, where the sampler's floating-point artefacts live, are never released.
 *
 * Privacy accounting treats both as the Gaussian mechanism of the same multiplier z (gaussian-dp.ts):
 * CKS show the discrete Gaussian has the concentrated-DP of the continuous one (1/(2 z^2)) and
 * (epsilon, delta) within a negligible margin of it at these scales; snapping to a grid far
 * finer than the noise changes its distribution by a negligible amount while closing the leak.
 */

/** A uniform integer in [0, bound), from `bytes` (cryptographic by default), by rejection: exact. */
export type RandomBytes = (n: number) => Uint8Array;

/**
 * Bytes from the platform's cryptographic generator, drawn 4 kB at a time: one draw of the
 * discrete Gaussian asks for about 20 small pieces, and a call to getRandomValues per piece was
 * 90% of its cost (45 us a draw against 4 us pooled, sigma 20). A byte is handed out once; the
 * pool lives in this module only, so it is as unpredictable as each call's own bytes were.
 */
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let poolAt = 0;
export const cryptoBytes: RandomBytes = (n) => {
  if (n > POOL_BYTES) return crypto.getRandomValues(new Uint8Array(n));
  if (poolAt + n > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + n);
  poolAt += n;
  return out;
};

function uniformBelow(bound: bigint, bytes: RandomBytes): bigint {
  if (bound <= 1n) return 0n;
  const bits = bound.toString(2).length;
  const n = Math.ceil(bits / 8);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    let x = 0n;
    for (const b of bytes(n)) x = (x << 8n) | BigInt(b);
    x &= mask;
    if (x < bound) return x;
  }
}

/** Bernoulli(num / den), exact. */
function bernoulli(num: bigint, den: bigint, bytes: RandomBytes): boolean {
  return uniformBelow(den, bytes) < num;
}

/** Bernoulli(exp(-num / den)), exact (CKS Algorithm 1). */
function bernoulliExp(num: bigint, den: bigint, bytes: RandomBytes): boolean {
  // exp(-g) = exp(-1)^floor(g) * exp(-(g - floor g)).
  while (num > den) {
    if (!bernoulliExp(1n, 1n, bytes)) return false;
    num -= den;
  }
  let k = 1n;
  while (bernoulli(num, den * k, bytes)) k += 1n;
  return k % 2n === 1n;
}

/** A discrete Laplace draw of scale t (P(x) proportional to exp(-|x| / t)), t >= 1 (CKS Algorithm 2). */
function discreteLaplace(t: bigint, bytes: RandomBytes): bigint {
  for (;;) {
    const u = uniformBelow(t, bytes);
    if (!bernoulliExp(u, t, bytes)) continue;
    let v = 0n;
    while (bernoulliExp(1n, 1n, bytes)) v += 1n;
    const x = u + t * v;
    const negative = bernoulli(1n, 2n, bytes);
    if (negative && x === 0n) continue;
    return negative ? -x : x;
  }
}

/** Denominator of the rational sigma^2 the sampler uses: sigma^2 is rounded to a millionth. */
const VARIANCE_SCALE = 1_000_000n;

/**
 * One draw of the discrete Gaussian N_Z(0, sigma^2): P(x) proportional to exp(-x^2 / (2 sigma^2))
 * over the integers (CKS Algorithm 3), with sigma^2 taken as a rational to a millionth.
 */
export function discreteGaussian(sigma: number, bytes: RandomBytes = cryptoBytes): number {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`a discrete Gaussian needs a positive finite sigma (got ${sigma})`);
  const p = BigInt(Math.max(1, Math.round(sigma * sigma * Number(VARIANCE_SCALE)))); // sigma^2 = p / q
  const q = VARIANCE_SCALE;
  const t = BigInt(Math.floor(sigma)) + 1n;
  for (;;) {
    const y = discreteLaplace(t, bytes);
    const abs = y < 0n ? -y : y;
    // Accept with probability exp(-(|y| - sigma^2 / t)^2 / (2 sigma^2)) = exp(-(q t |y| - p)^2 / (2 p q t^2)).
    const diff = q * t * abs - p;
    if (bernoulliExp(diff * diff, 2n * p * q * t * t, bytes)) return Number(y);
  }
}

/** `values` (integers) plus independent discrete Gaussian noise of standard deviation about `sigma` on each. */
export function addDiscreteGaussianNoise(values: ArrayLike<number>, sigma: number, bytes: RandomBytes = cryptoBytes): number[] {
  return Array.from(values, (x) => Math.round(x) + discreteGaussian(sigma, bytes));
}

/**
 * The grid a sum noised with standard deviation `sigma` is snapped to: the power of two at or
 * below sigma / 1024. Rounding to it adds a variance of at most (sigma / 1024)^2 / 12, nothing
 * next to the noise's, and releases three decimal digits of the noise, not sixteen.
 */
export function snappingGrid(sigma: number): number {
  return 2 ** Math.floor(Math.log2(sigma / 1024));
}

/**
 * Snapping (after Mironov 2012): `noised` clamped to [-bound, bound] and rounded to the nearest
 * multiple of `grid`. What is released then carries no bits below the grid.
 */
export function snap(noised: number, grid: number, bound: number): number {
  const clamped = Math.min(bound, Math.max(-bound, noised));
  return Math.round(clamped / grid) * grid;
}
