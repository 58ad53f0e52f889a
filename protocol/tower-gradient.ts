/**
 * The gradient of the towers' weights on a device's own decisions, in plain arithmetic (no
 * tfjs: the widget ships forward kernels only, and these are two small dense layers per tower).
 * What devices send for the federated-averaging step of the towers (model-training/src/
 * round-training.ts applies it); the last layer is updated exactly from sufficient statistics.
 *
 * Loss per shown decision: 1/2 w (r - theta . phi)^2, theta the last layer's posterior mean,
 * phi = [u * v, cross, 1] (protocol/model.ts), w the importance weight 1 / (K p) capped (K
 * eligible candidates, p the propensity): weighting by it makes the loss estimate the loss over
 * all candidates as if each had been shown equally often, not over what the serving model
 * already favours. The gradient has the layout of the towers' part of weights.bin (the first
 * `towerParameterCount` floats, in weightSpecs order).
 */
import { headDim, weightSpecs } from './model-artifact.ts';
import type { ModelTopology } from './model-artifact.ts';

export interface TowerExample {
  shopper: ArrayLike<number>;
  creative: ArrayLike<number>;
  reward: number;
  weight: number;
}

/** Cap of the towers' importance weight 1 / (K p): with the floor, K p can be far below 1. */
export const TOWER_WEIGHT_CAP = 10;

export function towerParameterCount(t: ModelTopology): number {
  let n = 0;
  for (const spec of weightSpecs(t)) if (!spec.name.startsWith('head/')) n += spec.shape.reduce((a, b) => a * b, 1);
  return n;
}

interface Layer {
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  inDim: number;
}

function layout(t: ModelTopology): { shopper: Layer; creative: Layer } {
  const at: Record<string, number> = {};
  let offset = 0;
  for (const spec of weightSpecs(t)) {
    at[spec.name] = offset;
    offset += spec.shape.reduce((a, b) => a * b, 1);
  }
  const side = (s: 'shopper' | 'creative', inDim: number): Layer => ({ w1: at[`${s}/w1`]!, b1: at[`${s}/b1`]!, w2: at[`${s}/w2`]!, b2: at[`${s}/b2`]!, inDim });
  return { shopper: side('shopper', t.shopperDim), creative: side('creative', t.creativeDim) };
}

/** Forward pass of one tower: hidden pre-activations and output. */
function forward(weights: ArrayLike<number>, l: Layer, t: ModelTopology, x: ArrayLike<number>): { pre: Float64Array; out: Float64Array } {
  const pre = new Float64Array(t.hidden);
  for (let i = 0; i < t.hidden; i++) pre[i] = weights[l.b1 + i]!;
  for (let k = 0; k < l.inDim; k++) {
    const xk = x[k]!;
    if (xk === 0) continue;
    const row = l.w1 + k * t.hidden;
    for (let i = 0; i < t.hidden; i++) pre[i]! += xk * weights[row + i]!;
  }
  const out = new Float64Array(t.embed);
  for (let j = 0; j < t.embed; j++) out[j] = weights[l.b2 + j]!;
  for (let i = 0; i < t.hidden; i++) {
    const h = Math.max(pre[i]!, 0);
    if (h === 0) continue;
    const row = l.w2 + i * t.embed;
    for (let j = 0; j < t.embed; j++) out[j]! += h * weights[row + j]!;
  }
  return { pre, out };
}

/** Adds d loss / d (tower weights) for output gradient `dOut` into `grad`. */
function backward(
  weights: ArrayLike<number>,
  l: Layer,
  t: ModelTopology,
  x: ArrayLike<number>,
  pre: Float64Array,
  dOut: Float64Array,
  grad: Float64Array,
): void {
  for (let j = 0; j < t.embed; j++) grad[l.b2 + j]! += dOut[j]!;
  const dh = new Float64Array(t.hidden);
  for (let i = 0; i < t.hidden; i++) {
    if (!(pre[i]! > 0)) continue;
    const row = l.w2 + i * t.embed;
    let s = 0;
    for (let j = 0; j < t.embed; j++) {
      grad[row + j]! += pre[i]! * dOut[j]!;
      s += weights[row + j]! * dOut[j]!;
    }
    dh[i] = s;
  }
  for (let i = 0; i < t.hidden; i++) grad[l.b1 + i]! += dh[i]!;
  for (let k = 0; k < l.inDim; k++) {
    const xk = x[k]!;
    if (xk === 0) continue;
    const row = l.w1 + k * t.hidden;
    for (let i = 0; i < t.hidden; i++) grad[row + i]! += xk * dh[i]!;
  }
}

/**
 * Sum over `examples` of the gradient of 1/2 w (r - theta . phi)^2 with respect to the towers'
 * weights. `weights` holds at least the towers' part of weights.bin; `cross` gives each
 * example's cross features (they do not depend on the towers).
 */
export function towerGradient(
  weights: ArrayLike<number>,
  t: ModelTopology,
  theta: ArrayLike<number>,
  examples: readonly (TowerExample & { cross: ArrayLike<number> })[],
): Float64Array {
  const l = layout(t);
  const grad = new Float64Array(towerParameterCount(t));
  const d = headDim(t);
  for (const ex of examples) {
    const s = forward(weights, l.shopper, t, ex.shopper);
    const c = forward(weights, l.creative, t, ex.creative);
    let score = theta[d - 1]!;
    for (let e = 0; e < t.embed; e++) score += theta[e]! * s.out[e]! * c.out[e]!;
    for (let k = 0; k < ex.cross.length; k++) score += theta[t.embed + k]! * ex.cross[k]!;
    const g = -ex.weight * (ex.reward - score);
    if (g === 0) continue;
    const du = new Float64Array(t.embed);
    const dv = new Float64Array(t.embed);
    for (let e = 0; e < t.embed; e++) {
      du[e] = g * theta[e]! * c.out[e]!;
      dv[e] = g * theta[e]! * s.out[e]!;
    }
    backward(weights, l.shopper, t, ex.shopper, s.pre, du, grad);
    backward(weights, l.creative, t, ex.creative, c.pre, dv, grad);
  }
  return grad;
}

/**
 * A gradient in one byte per weight: q = trunc(g / scale) with scale = max |g| / 127, base64.
 * Truncation towards zero never grows a coordinate, so the clipped L2 bound still holds after
 * quantization (what the edge checks and the noise is calibrated to). 6,240 weights take 8.3 kB.
 */
export function quantizeGradient(g: ArrayLike<number>): { scale: number; q: string } {
  let max = 0;
  for (let i = 0; i < g.length; i++) max = Math.max(max, Math.abs(g[i]!));
  const scale = max / 127;
  const bytes = new Int8Array(g.length);
  if (scale > 0) for (let i = 0; i < g.length; i++) bytes[i] = Math.trunc(g[i]! / scale);
  let text = '';
  const u8 = new Uint8Array(bytes.buffer);
  for (let i = 0; i < u8.length; i += 4096) text += String.fromCharCode(...u8.subarray(i, i + 4096));
  return { scale, q: btoa(text) };
}

/** The gradient a quantized one stands for; null when `q` is not base64. */
export function dequantizeGradient(quantized: { scale: number; q: string }): Float64Array | null {
  let text: string;
  try {
    text = atob(quantized.q);
  } catch {
    return null;
  }
  const bytes = new Int8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = (text.charCodeAt(i) << 24) >> 24;
  return Float64Array.from(bytes, (b) => b * quantized.scale);
}
