import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { CREATIVE_DIM, CROSS_DIM, crossRows, encodeCreative, encodeShopper, SHOPPER_DIM } from '../../protocol/features.ts';
import { ModelJsonSchema, parameterCount, MAX_PARAMETERS } from '../../protocol/model-artifact.ts';
import { headFeatures } from '../../protocol/model.ts';
import type { TowerWeights } from '../../protocol/model.ts';
import { emptyProfile } from '../../protocol/profile.ts';
import { applyEvent } from '../../protocol/profile-updates.ts';
import { trainBootstrapModel } from '../../model-training/src/bootstrap-model.ts';
import { demoCandidates } from '../fixtures/storefront/demo-candidates.ts';

describe('bootstrap model (trained on synthetic shoppers of the demo catalog)', () => {
  it("is a valid artifact under the parameter cap that ranks a shopper's viewed category higher, and first", async () => {
    const candidates = demoCandidates();
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'vitrine-model-'));
    const { model, weights } = await trainBootstrapModel(candidates, { examples: 20_000, cacheDir, log: () => undefined });
    expect(v.is(ModelJsonSchema, model)).toBe(true);
    expect(parameterCount(model.topology)).toBeLessThanOrEqual(MAX_PARAMETERS);

    const named = tf.io.decodeWeights(
      weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
      model.weightsManifest[0].weights,
    );
    const mean = named['head/mean']!;
    const now = Date.UTC(2026, 0, 1);
    // For each category: a shopper who viewed it three times; its candidates should score above the rest.
    let wins = 0;
    let towerSquares = 0;
    let rows = 0;
    const categories = [...new Set(candidates.map((c) => c.category))];
    for (const category of categories) {
      const profile = emptyProfile(now);
      for (let i = 0; i < 3; i++) applyEvent(profile, { type: 'product_view', at: now - i * 60_000, category });
      const page = { pageType: 'home', category: null, hour: 12, device: 'desktop' } as const;
      const shopper = encodeShopper(profile, page, now);
      const creatives = new Float32Array(candidates.length * CREATIVE_DIM);
      candidates.forEach((c, i) => creatives.set(encodeCreative(c, 'hero'), i * CREATIVE_DIM));
      const scores = tf.tidy(() => {
        const cross = tf.tensor2d(crossRows(profile, page, candidates), [candidates.length, CROSS_DIM]);
        const phi = headFeatures(
          named as unknown as TowerWeights,
          tf.tensor2d(shopper, [1, SHOPPER_DIM]),
          tf.tensor2d(creatives, [candidates.length, CREATIVE_DIM]),
          cross,
        );
        towerSquares += tf.sum(tf.square(tf.slice(phi, [0, 0], [candidates.length, model.topology.embed]))).dataSync()[0]!;
        rows += candidates.length;
        return tf.matMul(phi, tf.reshape(mean, [-1, 1])).dataSync();
      });
      const inCat = candidates.map((c, i) => (c.category === category ? scores[i]! : NaN)).filter((x) => !Number.isNaN(x));
      const outCat = candidates.map((c, i) => (c.category !== category ? scores[i]! : NaN)).filter((x) => !Number.isNaN(x));
      const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      // On average, and at the top: the best-scoring creative is one of the viewed category's.
      if (avg(inCat) > avg(outCat) && Math.max(...inCat) > Math.max(...outCat)) wins++;
    }
    expect(wins).toBe(categories.length);
    // u * v is scaled to unit mean square norm (the size of the cross features), so it does not
    // set the devices' head bound alone (fit-two-tower.ts): these shoppers are not the training
    // data, so only roughly.
    expect(towerSquares / rows).toBeGreaterThan(0.1);
    expect(towerSquares / rows).toBeLessThan(5);
  }, 120_000);
});
