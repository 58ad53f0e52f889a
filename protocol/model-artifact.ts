/**
 * The model artifact: model.json (ModelJson) plus one little-endian float32 weights.bin laid out
 * as in the tfjs weights manifest (so tf.io.decodeWeights reads it). Kept apart from the forward
 * pass so that the edge can validate and hash artifacts without bundling TensorFlow.js.
 */
import * as v from 'valibot';
import { CROSS_DIM } from './features.ts';
import { OffsetsSchema } from './offsets.ts';
import type { Offsets } from './offsets.ts';

export const MODEL_FORMAT = 'vitrine-two-tower/1';

export interface ModelTopology {
  shopperDim: number;
  creativeDim: number;
  hidden: number;
  embed: number;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface ModelJson {
  format: typeof MODEL_FORMAT;
  /** Hash of the feature specification the model was trained on. */
  specHash: string;
  topology: ModelTopology;
  /** Observation noise variance of the reward model; scales how far Thompson samples spread. */
  noiseVariance: number;
  /** Free-form provenance: how and on what it was trained. */
  trainedOn: string;
  /** Log-offsets of the head's click predictions per cell and creative (protocol/offsets.ts); absent: none. */
  offsets?: Offsets;
  /**
   * The share of its fitted posterior's variance the head's covariance keeps, where a site's rounds
   * release no head statistics and the trainer narrowed it (model-training/src/head-width.ts);
   * absent: 1. Recorded so the narrowing is taken once, never compounded model after model.
   */
  headVarianceScale?: number;
  weightsManifest: [{ paths: ['weights.bin']; weights: WeightSpec[] }];
}

/** Dimension of phi, the last layer's input. */
export function headDim(t: ModelTopology): number {
  return t.embed + CROSS_DIM + 1;
}

/** The weights, in the order they are stored in weights.bin. */
export function weightSpecs(t: ModelTopology): WeightSpec[] {
  const d = headDim(t);
  const spec = (name: string, ...shape: number[]): WeightSpec => ({ name, shape, dtype: 'float32' });
  return [
    spec('shopper/w1', t.shopperDim, t.hidden),
    spec('shopper/b1', t.hidden),
    spec('shopper/w2', t.hidden, t.embed),
    spec('shopper/b2', t.embed),
    spec('creative/w1', t.creativeDim, t.hidden),
    spec('creative/b1', t.hidden),
    spec('creative/w2', t.hidden, t.embed),
    spec('creative/b2', t.embed),
    spec('head/mean', d),
    spec('head/covariance', d, d),
  ];
}

export function parameterCount(t: ModelTopology): number {
  return weightSpecs(t).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
}

const TOPOLOGY_DIM = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096));

/** Validates an uploaded or downloaded model.json. Shapes are checked against the topology. */
export const ModelJsonSchema = v.pipe(
  v.object({
    format: v.literal(MODEL_FORMAT),
    specHash: v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/)),
    topology: v.object({ shopperDim: TOPOLOGY_DIM, creativeDim: TOPOLOGY_DIM, hidden: TOPOLOGY_DIM, embed: TOPOLOGY_DIM }),
    noiseVariance: v.pipe(v.number(), v.minValue(1e-9)),
    trainedOn: v.pipe(v.string(), v.maxLength(500)),
    /** Log-offsets of the head's click predictions per cell and creative (protocol/offsets.ts); absent: none. */
    offsets: v.optional(OffsetsSchema),
    headVarianceScale: v.optional(v.pipe(v.number(), v.gtValue(0), v.maxValue(1))),
    weightsManifest: v.tuple([
      v.object({
        paths: v.tuple([v.literal('weights.bin')]),
        weights: v.array(v.object({ name: v.string(), shape: v.array(v.number()), dtype: v.literal('float32') })),
      }),
    ]),
  }),
  v.check((m) => JSON.stringify(m.weightsManifest[0].weights) === JSON.stringify(weightSpecs(m.topology)), 'weightsManifest does not match the topology'),
  v.check((m) => parameterCount(m.topology) <= MAX_PARAMETERS, 'the model has more than 50,000 parameters'),
);

export const MAX_PARAMETERS = 50_000;

/** Bytes weights.bin must have for a topology. */
export function weightsByteLength(t: ModelTopology): number {
  return parameterCount(t) * 4;
}

/**
 * The model's version: the first 16 hex digits of SHA-256 over model.json's text and the
 * weights. Content-addressed, so a version's artifacts can be cached forever.
 */
export async function modelVersion(modelJsonText: string, weights: Uint8Array): Promise<string> {
  const text = new TextEncoder().encode(modelJsonText);
  const all = new Uint8Array(text.byteLength + weights.byteLength);
  all.set(text, 0);
  all.set(weights, text.byteLength);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(hash.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}
