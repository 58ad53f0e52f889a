/**
 * Offline fitting of the two-tower model on logged examples: the towers and a logistic head
 * by Adam on the click cross-entropy, then the Bayesian linear head refit on the towers'
 * features (bayesian-head.ts), which is what Thompson sampling uses on the device.
 */
// The full @tensorflow/tfjs package in Node: unlike tfjs-core alone it registers every gradient,
// which training needs. It shares tfjs-core's engine with protocol/model.ts.
import * as tf from '@tensorflow/tfjs';
import { CREATIVE_DIM, CROSS_DIM, FEATURE_SPEC_HASH, SHOPPER_DIM } from '../../protocol/features.ts';
import { headDim, MODEL_FORMAT, weightSpecs } from '../../protocol/model-artifact.ts';
import type { ModelJson, ModelTopology } from '../../protocol/model-artifact.ts';
import { headFeatures, tower } from '../../protocol/model.ts';
import type { TowerWeights } from '../../protocol/model.ts';
import { accumulate, emptyStatistics, isotropicPrior, posterior, reweighted } from './bayesian-head.ts';
import type { HeadPosterior } from './bayesian-head.ts';
import type { LoggedExamples } from './synthetic-shoppers.ts';

export interface FitOptions {
  hidden: number;
  embed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  trainedOn: string;
  /**
   * The most examples the last layer's posterior counts the training data as (null: all of
   * them). Synthetic shoppers are a guess about the store: counted in full (40,000 of them) the
   * guess would outweigh months of real feedback on anything it got wrong.
   */
  headEvidence?: number | null;
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface FittedModel {
  model: ModelJson;
  weights: Uint8Array;
  head: HeadPosterior;
}

export const DEFAULT_FIT: Omit<FitOptions, 'trainedOn'> = { hidden: 32, embed: 16, epochs: 6, batchSize: 256, learningRate: 0.01, seed: 7 };

export async function fitTwoTower(data: LoggedExamples, options: FitOptions): Promise<FittedModel> {
  // PROD silences the "install tfjs-node" hint: tfjs-node cannot install here (it downloads libtensorflow).
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const topology: ModelTopology = { shopperDim: SHOPPER_DIM, creativeDim: CREATIVE_DIM, hidden: options.hidden, embed: options.embed };
  const d = headDim(topology);
  const glorot = (rows: number, cols: number, seed: number) => tf.variable(tf.randomNormal([rows, cols], 0, Math.sqrt(2 / (rows + cols)), 'float32', seed));
  const zeros = (n: number) => tf.variable(tf.zeros([n]));
  const towers = {
    'shopper/w1': glorot(SHOPPER_DIM, options.hidden, options.seed),
    'shopper/b1': zeros(options.hidden),
    'shopper/w2': glorot(options.hidden, options.embed, options.seed + 1),
    'shopper/b2': zeros(options.embed),
    'creative/w1': glorot(CREATIVE_DIM, options.hidden, options.seed + 2),
    'creative/b1': zeros(options.hidden),
    'creative/w2': glorot(options.hidden, options.embed, options.seed + 3),
    'creative/b2': zeros(options.embed),
  };
  const logisticHead = tf.variable(tf.zeros([d, 1]));
  const optimizer = tf.train.adam(options.learningRate);
  const shoppers = tf.tensor2d(data.shoppers, [data.n, SHOPPER_DIM]);
  const creatives = tf.tensor2d(data.creatives, [data.n, CREATIVE_DIM]);
  const clicks = tf.tensor2d(data.clicks, [data.n, 1]);
  const cross = tf.tensor2d(data.cross, [data.n, CROSS_DIM]);

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    let total = 0;
    let batches = 0;
    for (let start = 0; start < data.n; start += options.batchSize) {
      const size = Math.min(options.batchSize, data.n - start);
      const loss = optimizer.minimize(() => {
        const xs = tf.slice(shoppers, [start, 0], [size, SHOPPER_DIM]);
        const xc = tf.slice(creatives, [start, 0], [size, CREATIVE_DIM]);
        const y = tf.slice(clicks, [start, 0], [size, 1]);
        const xx = tf.slice(cross, [start, 0], [size, CROSS_DIM]);
        const logits = tf.matMul(headFeatures(towers as TowerWeights, xs, xc, xx), logisticHead);
        return tf.losses.sigmoidCrossEntropy(y, logits) as tf.Scalar;
      }, true);
      total += (await loss!.data())[0]!;
      loss!.dispose();
      batches++;
    }
    options.onEpoch?.(epoch + 1, total / batches);
  }

  // Scale the creative tower's output so that u * v has unit mean square norm over the data.
  // A device's last-layer statistics are clipped by one L2 bound over all of phi, and that bound
  // sets the noise on every entry; left at the size Adam happened to give it (|u * v| ~ 7 here),
  // u * v would set the bound, and the noise would drown the statistics of the cross features
  // (each at most 1), which carry most of what the rounds teach. Free: the head is refit below.
  const meanSquare = tf.tidy(
    () =>
      tf
        .mean(tf.sum(tf.square(tf.mul(tower(towers as TowerWeights, 'shopper', shoppers), tower(towers as TowerWeights, 'creative', creatives))), 1))
        .dataSync()[0]!,
  );
  if (meanSquare > 0) {
    const s = 1 / Math.sqrt(meanSquare);
    for (const name of ['creative/w2', 'creative/b2'] as const) towers[name].assign(tf.tidy(() => tf.mul(towers[name], s)));
  }

  // Refit the head as Bayesian linear regression on the learned phi.
  const phi = tf.tidy(() => headFeatures(towers as TowerWeights, shoppers, creatives, cross));
  const stats = emptyStatistics(d);
  accumulate(stats, await phi.data(), data.clicks, data.n);
  phi.dispose();
  const ctr = data.clicks.reduce((a, b) => a + b, 0) / data.n;
  const noiseVariance = Math.max(1e-4, ctr * (1 - ctr));
  const fitted = posterior(isotropicPrior(d, 1), stats, noiseVariance);
  const head = options.headEvidence && options.headEvidence < data.n ? reweighted(fitted, options.headEvidence / data.n) : fitted;

  const specs = weightSpecs(topology);
  const parts: Float32Array[] = [];
  for (const spec of specs) {
    if (spec.name === 'head/mean') parts.push(Float32Array.from(head.mean));
    else if (spec.name === 'head/covariance') parts.push(Float32Array.from(head.covariance));
    else parts.push((await towers[spec.name as keyof typeof towers].data()) as Float32Array);
  }
  const length = parts.reduce((n, p) => n + p.length, 0);
  const all = new Float32Array(length);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  for (const v of Object.values(towers)) v.dispose();
  logisticHead.dispose();
  optimizer.dispose();
  tf.dispose([shoppers, creatives, clicks, cross]);

  const model: ModelJson = {
    format: MODEL_FORMAT,
    specHash: FEATURE_SPEC_HASH,
    topology,
    noiseVariance,
    trainedOn: options.trainedOn,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  return { model, weights: new Uint8Array(all.buffer), head };
}
