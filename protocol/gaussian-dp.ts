/**
 * Exact privacy accounting for Gaussian mechanisms: Gaussian differential privacy (Dong, Roth
 * and Su, "Gaussian Differential Privacy", 2019/2022).
 *
 * A Gaussian mechanism whose noise standard deviation is z times its L2 sensitivity is
 * mu-GDP with mu = 1 / z, and GDP composes exactly: mechanisms of multipliers z_1 .. z_k
 * together are mu-GDP with mu = sqrt(sum 1 / z_i^2). A mu-GDP mechanism is (epsilon, delta)-DP
 * for every epsilon with
 *   delta(epsilon) = Phi(-epsilon / mu + mu / 2) - e^epsilon Phi(-epsilon / mu - mu / 2),
 * and that curve is tight (it is the privacy profile of one Gaussian mechanism of multiplier
 * 1 / mu). Every mechanism Vitrine releases is Gaussian (counts with the discrete Gaussian are
 * covered in privacy.ts), so this is the accounting, not a bound on it: the Renyi-DP conversion
 * it replaces gave 7.45 where this gives 6.40 for ten rounds of four mechanisms at z = 5.
 */

/**
 * log erfc(x) for x >= 0, to about 1e-15 relative in erfc: the series of erf for small x, and
 * for x >= 2 Lentz's continued fraction with the factor exp(-x^2) kept as its logarithm, so the
 * result stays finite however far into the tail x is (erfc itself underflows past x = 27).
 */
function logErfcNonNegative(x: number): number {
  if (x < 2) {
    // erf(x) = 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.log(1 - (2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), modified Lentz.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

/** log of the standard normal distribution function, finite for every finite x. */
export function logNormalCdf(x: number): number {
  return x >= 0 ? Math.log1p(-0.5 * Math.exp(logErfcNonNegative(x / Math.SQRT2))) : Math.log(0.5) + logErfcNonNegative(-x / Math.SQRT2);
}

/** The standard normal distribution function. */
export function normalCdf(x: number): number {
  return Math.exp(logNormalCdf(x));
}

/** mu of the composition of Gaussian mechanisms with these noise multipliers. */
export function composedMu(noiseMultipliers: readonly number[]): number {
  let s = 0;
  for (const z of noiseMultipliers) s += 1 / (z * z);
  return Math.sqrt(s);
}

/**
 * delta(epsilon) of a mu-GDP mechanism. The second term is e^epsilon Phi(...), computed as
 * exp(epsilon + log Phi(...)): written as a product it overflowed past epsilon 709.78 (e^epsilon
 * is Infinity there, and the ledger read a budget of 1,000 as never spent).
 */
export function gdpDelta(mu: number, epsilon: number): number {
  if (mu === 0) return 0;
  return normalCdf(-epsilon / mu + mu / 2) - Math.exp(epsilon + logNormalCdf(-epsilon / mu - mu / 2));
}

/** The smallest epsilon >= 0 with delta(epsilon) <= delta for a mu-GDP mechanism (bisection: delta(epsilon) falls as epsilon grows). */
export function gdpEpsilon(mu: number, delta: number): number {
  if (!Number.isFinite(mu) || Number.isNaN(delta)) return Number.POSITIVE_INFINITY; // an infinite spend is over any budget
  if (mu === 0 || gdpDelta(mu, 0) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (gdpDelta(mu, hi) > delta) {
    hi *= 2;
    if (!Number.isFinite(hi)) return Number.POSITIVE_INFINITY;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (gdpDelta(mu, mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The mu at which a mu-GDP mechanism is exactly (epsilon, delta)-DP: what a budget allows in all. */
export function gdpMuFor(epsilon: number, delta: number): number {
  let lo = 0;
  let hi = 1;
  while (gdpEpsilon(hi, delta) < epsilon) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (gdpEpsilon(mid, delta) < epsilon) lo = mid;
    else hi = mid;
  }
  return lo;
}
