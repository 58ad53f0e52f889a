/**
 * Small dense linear algebra on row-major Float64Arrays, for the Bayesian last layer
 * (dimension ~ 20): the engine factors the posterior covariance to sample from it and the
 * trainer inverts precision matrices. Too small to be worth a tensor library round trip.
 */

/** A matrix that had to be positive definite (a covariance, a precision) is not: a bug upstream, never patched over here. */
export class NotPositiveDefinite extends Error {}

/**
 * Lower-triangular L with A = L L^T. Throws NotPositiveDefinite when A is not positive definite:
 * adding jitter to make it pass would hide the bug that made it so (it once hid a posterior
 * that counted noise as evidence).
 */
export function cholesky(a: ArrayLike<number>, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) {
        if (!(sum > 0)) throw new NotPositiveDefinite(`the matrix is not positive definite (pivot ${i} of ${d} is ${sum})`);
        l[i * d + i] = Math.sqrt(sum);
      } else {
        l[i * d + j] = sum / l[j * d + j]!;
      }
    }
  }
  return l;
}

/** Solves A x = b given A's Cholesky factor L. */
export function choleskySolve(l: Float64Array, d: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * d + k]! * y[k]!;
    y[i] = sum / l[i * d + i]!;
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < d; k++) sum -= l[k * d + i]! * x[k]!;
    x[i] = sum / l[i * d + i]!;
  }
  return x;
}

/** Inverse of a symmetric positive-definite matrix. */
export function spdInverse(a: ArrayLike<number>, d: number): Float64Array {
  const l = cholesky(a, d);
  const inv = new Float64Array(d * d);
  const e = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    e.fill(0);
    e[j] = 1;
    const col = choleskySolve(l, d, e);
    for (let i = 0; i < d; i++) inv[i * d + j] = col[i]!;
  }
  return inv;
}

/** y = L z for lower-triangular L: turns standard normal draws into draws with covariance L L^T. */
export function lowerTimes(l: Float64Array, d: number, z: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = 0; i < d; i++) {
    let sum = 0;
    for (let k = 0; k <= i; k++) sum += l[i * d + k]! * z[k]!;
    out[i] = sum;
  }
  return out;
}

