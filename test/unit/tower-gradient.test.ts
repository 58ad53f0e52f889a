import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CROSS_DIM } from '../../protocol/features.ts';
import { headDim, weightSpecs } from '../../protocol/model-artifact.ts';
import type { ModelTopology } from '../../protocol/model-artifact.ts';
import { headFeatures } from '../../protocol/model.ts';
import type { TowerWeights } from '../../protocol/model.ts';
import { l2Norm } from '../../protocol/privacy.ts';
import { dequantizeGradient, quantizeGradient, towerGradient, towerParameterCount } from '../../protocol/tower-gradient.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';

const T: ModelTopology = { shopperDim: 7, creativeDim: 5, hidden: 6, embed: 4 };

describe('tower gradient', () => {
  it('equals the gradient tfjs computes by automatic differentiation of the same loss', async () => {
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
    const random = seededRandom(3);
    const n = towerParameterCount(T);
    const weights = Float32Array.from({ length: n }, () => random() - 0.5);
    const d = headDim(T);
    const theta = Float64Array.from({ length: d }, () => random() - 0.5);
    const examples = Array.from({ length: 9 }, (_, i) => ({
      shopper: Float32Array.from({ length: T.shopperDim }, () => (random() < 0.4 ? 0 : random())),
      creative: Float32Array.from({ length: T.creativeDim }, () => (random() < 0.4 ? 0 : random())),
      cross: Float32Array.from({ length: CROSS_DIM }, () => random()),
      reward: i % 3 === 0 ? 1 : 0,
      weight: 0.5 + random() * 3,
    }));
    const mine = towerGradient(weights, T, theta, examples);

    // The same loss in tfjs: 1/2 sum w (r - theta . phi)^2, differentiated with respect to every tower weight.
    let at = 0;
    const specs = weightSpecs(T).filter((s) => !s.name.startsWith('head/'));
    const vars: Record<string, tf.Tensor> = {};
    for (const s of specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      vars[s.name] = tf.tensor(weights.subarray(at, at + size), s.shape);
      at += size;
    }
    const xs = tf.tensor2d(
      examples.flatMap((e) => Array.from(e.shopper)),
      [examples.length, T.shopperDim],
    );
    const xc = tf.tensor2d(
      examples.flatMap((e) => Array.from(e.creative)),
      [examples.length, T.creativeDim],
    );
    const cross = tf.tensor2d(
      examples.flatMap((e) => Array.from(e.cross)),
      [examples.length, CROSS_DIM],
    );
    const r = tf.tensor2d(
      examples.map((e) => e.reward),
      [examples.length, 1],
    );
    const w = tf.tensor2d(
      examples.map((e) => e.weight),
      [examples.length, 1],
    );
    const th = tf.tensor2d(Array.from(theta), [d, 1]);
    const names = specs.map((s) => s.name);
    const grads = tf.grads((...ts: tf.Tensor[]) => {
      const tw = Object.fromEntries(names.map((nm, i) => [nm, ts[i]!])) as unknown as TowerWeights;
      const err = tf.sub(r, tf.matMul(headFeatures(tw, xs, xc, cross), th));
      return tf.mul(0.5, tf.sum(tf.mul(w, tf.square(err))));
    })(names.map((nm) => vars[nm]!));
    const reference = new Float64Array(n);
    let offset = 0;
    for (const g of grads) {
      const data = g.dataSync();
      reference.set(data, offset);
      offset += data.length;
    }
    expect(offset).toBe(n);
    expect(l2Norm(reference)).toBeGreaterThan(0.01);
    for (let i = 0; i < n; i++) expect(mine[i]!).toBeCloseTo(reference[i]!, 4);
  });

  it('quantizes to a byte per weight without growing any coordinate, and comes back within 1/127 of the largest', () => {
    const random = seededRandom(5);
    const g = Float64Array.from({ length: 6240 }, () => (random() - 0.5) * (random() < 0.01 ? 10 : 1));
    const q = quantizeGradient(g);
    expect(q.q.length).toBe(Math.ceil(6240 / 3) * 4); // base64 of 6,240 bytes
    const back = dequantizeGradient(q)!;
    const max = Math.max(...g.map(Math.abs));
    for (let i = 0; i < g.length; i++) {
      expect(Math.abs(back[i]!)).toBeLessThanOrEqual(Math.abs(g[i]!));
      expect(Math.abs(back[i]! - g[i]!)).toBeLessThanOrEqual(max / 127 + 1e-12);
    }
    expect(l2Norm(back)).toBeLessThanOrEqual(l2Norm(g));
    expect(dequantizeGradient({ scale: 1, q: '%%%' })).toBeNull();
    expect(Array.from(dequantizeGradient(quantizeGradient(new Float64Array(4)))!)).toEqual([0, 0, 0, 0]);
  });
});
