/**
 * The model: a two-tower scorer with a Bayesian last layer, defined once for inference
 * (widget engine) and training (model-training).
 *
 *   u = shopper tower(x_shopper)   (Dense relu, Dense)  -> R^E
 *   v = creative tower(x_creative) (Dense relu, Dense)  -> R^E
 *   phi = [u * v, cross, 1]                              -> R^(E+C+1)
 *   expected reward = phi . theta,  theta ~ N(mean, covariance)
 *
 * cross holds the shopper-creative match features of features.ts (encodeCross), computed from
 * the raw feature vectors outside the graph. The towers are point estimates; theta's Gaussian posterior is what Thompson sampling draws
 * from and what devices' sufficient statistics (sum phi phi^T, sum r phi) update exactly.
 *
 * The artifact format is in model-artifact.ts.
 */
import { add, concat, matMul, mul, ones, relu } from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';

export type TowerWeights = Record<
  'shopper/w1' | 'shopper/b1' | 'shopper/w2' | 'shopper/b2' | 'creative/w1' | 'creative/b1' | 'creative/w2' | 'creative/b2',
  Tensor
>;

export function tower(w: TowerWeights, side: 'shopper' | 'creative', x: Tensor2D): Tensor2D {
  const h = relu(add(matMul(x, w[`${side}/w1`] as Tensor2D), w[`${side}/b1`]));
  return add(matMul(h as Tensor2D, w[`${side}/w2`] as Tensor2D), w[`${side}/b2`]) as Tensor2D;
}

/**
 * phi for each (shopper row, creative row) pair. `shoppers` may have one row, which is
 * broadcast against every creative (one shopper scoring many candidates).
 * Call inside tf.tidy.
 */
export function headFeatures(w: TowerWeights, shoppers: Tensor2D, creatives: Tensor2D, cross: Tensor2D): Tensor2D {
  return combineTowers(tower(w, 'shopper', shoppers), tower(w, 'creative', creatives), cross);
}

/** phi from the towers' outputs: what a scorer that keeps creative embeddings between decisions calls. */
export function combineTowers(u: Tensor2D, v: Tensor2D, cross: Tensor2D): Tensor2D {
  const n = v.shape[0];
  return concat([mul(u, v) as Tensor2D, cross, ones([n, 1]) as Tensor2D], 1);
}
