import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { candidateHeadWidth, posteriorWidth, UNLEARNABLE_HEAD_VARIANCE } from '../../model-training/src/head-width.ts';
import { MODEL_FORMAT, ModelJsonSchema, weightSpecs } from '../../protocol/model-artifact.ts';
import type { ModelJson } from '../../protocol/model-artifact.ts';

// A 3 x 3 posterior covariance with off-diagonal terms, as the first model serves it.
const FIRST = Float32Array.from([0.5, 0.1, -0.05, 0.1, 0.3, 0.02, -0.05, 0.02, 0.2]);

/** The trainer's step from a serving model's covariance and scale to its candidate's (round-training.ts fitFromRounds, no head fitted). */
function nextCandidate(serving: { covariance: Float32Array; scale: number | undefined }, learnsHead: boolean) {
  return candidateHeadWidth(posteriorWidth(serving.covariance, serving.scale), learnsHead);
}

describe('head width of candidates (model-training/src/head-width.ts)', () => {
  it('narrows once, against the posterior: ten promotions in a row at a site that learns no head keep 0.01 of the first width', () => {
    let serving: { covariance: Float32Array; scale: number | undefined } = { covariance: FIRST, scale: undefined };
    for (let promotion = 1; promotion <= 10; promotion++) {
      serving = nextCandidate(serving, false);
      expect(serving.scale).toBe(UNLEARNABLE_HEAD_VARIANCE);
      for (let i = 0; i < FIRST.length; i++) expect(serving.covariance[i]! / FIRST[i]!).toBeCloseTo(UNLEARNABLE_HEAD_VARIANCE, 6);
    }
  });

  it('gives the full width back when the site releases head statistics again', () => {
    const narrowed = nextCandidate({ covariance: FIRST, scale: undefined }, false);
    const grown = nextCandidate(narrowed, true);
    expect(grown.scale).toBeUndefined();
    for (let i = 0; i < FIRST.length; i++) expect(grown.covariance[i]!).toBeCloseTo(FIRST[i]!, 6);
  });

  it('leaves a head that learns at its posterior width', () => {
    const same = nextCandidate({ covariance: FIRST, scale: undefined }, true);
    expect(same).toEqual({ covariance: FIRST, scale: undefined });
    expect(same.covariance).not.toBe(FIRST); // a copy: the serving model's weights are not written
  });

  it('is kept by the model schema the edge stores, and refused outside (0, 1]', () => {
    const topology = { shopperDim: 4, creativeDim: 4, hidden: 4, embed: 4 };
    const model: ModelJson = {
      format: MODEL_FORMAT,
      specHash: '0123456789abcdef',
      topology,
      noiseVariance: 0.25,
      trainedOn: 'test',
      headVarianceScale: UNLEARNABLE_HEAD_VARIANCE,
      weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs(topology) }],
    };
    expect(v.parse(ModelJsonSchema, model).headVarianceScale).toBe(UNLEARNABLE_HEAD_VARIANCE);
    expect(v.is(ModelJsonSchema, { ...model, headVarianceScale: 0 })).toBe(false);
    expect(v.is(ModelJsonSchema, { ...model, headVarianceScale: 1.5 })).toBe(false);
  });
});
