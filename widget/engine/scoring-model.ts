/**
 * The serving model inside the worker: downloads an artifact (Cache API first, since its URL is
 * content-addressed and immutable), refuses one built for another feature spec, and turns it
 * into tensors plus the Cholesky factor of the last layer's covariance for Thompson sampling.
 */
import { io, keep, tensor2d, tidy } from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import * as v from 'valibot';
import { CROSS_DIM, FEATURE_SPEC_HASH } from '../../protocol/features.ts';
import { headDim, ModelJsonSchema, weightsByteLength } from '../../protocol/model-artifact.ts';
import type { ModelJson, ModelTopology } from '../../protocol/model-artifact.ts';
import { towerParameterCount } from '../../protocol/tower-gradient.ts';
import { combineTowers, tower } from '../../protocol/model.ts';
import type { TowerWeights } from '../../protocol/model.ts';
import { cholesky } from '../../protocol/linalg.ts';
import { fnv1a32Words } from '../../protocol/hash.ts';
import { describeIssues } from '../../protocol/wire.ts';
import type { ModelManifest } from '../../protocol/wire.ts';
import type { Offsets } from '../../protocol/offsets.ts';

export interface ScoringModel {
  version: string;
  topology: ModelTopology;
  /** The towers' weights as stored (the first floats of weights.bin): what the report's tower gradient is taken at. */
  towerWeights: Float32Array;
  /** Dimension of phi. */
  dim: number;
  mean: Float64Array;
  /** Lower Cholesky factor of the posterior covariance, row-major dim x dim. */
  covarianceFactor: Float64Array;
  /** The towers as stored (a hash of their bytes): two models with the same key compute the same features (slot-scoring.ts). */
  towersKey: string;
  /** Log-offsets of the head's predictions per cell and creative (protocol/offsets.ts), null without. */
  offsets: Offsets | null;
  /**
   * phi for one shopper row against every creative row, with their cross features ([n, CROSS_DIM]): [n, dim]. The creative tower's output
   * is kept per `creatives` array (the engine passes the same array for the same candidates and
   * slot), since it does not depend on the shopper: only the shopper tower runs per decision.
   */
  headFeatures(shopper: Float32Array, creatives: Float32Array, cross: Float32Array, n: number): Float32Array;
  dispose(): void;
}

export class ModelRefused extends Error {}

const CACHE_NAME = 'vitrine-models-v1';

async function fetchImmutable(url: string): Promise<Response> {
  let cache: Cache | null = null;
  try {
    cache = await caches.open(CACHE_NAME);
    const hit = await cache.match(url);
    if (hit) return hit;
  } catch {
    cache = null; // no Cache API here (opaque origin, storage blocked): fetch every time
  }
  const response = await fetch(url, { credentials: 'omit' });
  if (!response.ok) throw new ModelRefused(`${url} answered ${response.status}`);
  if (cache) await cache.put(url, response.clone()).catch(() => undefined);
  return response;
}

export async function loadScoringModel(edge: string, manifest: ModelManifest): Promise<ScoringModel> {
  if (manifest.specHash !== FEATURE_SPEC_HASH) {
    throw new ModelRefused(`model ${manifest.version} was trained on feature spec ${manifest.specHash}, this widget encodes ${FEATURE_SPEC_HASH}`);
  }
  const jsonUrl = new URL(manifest.url, edge).href;
  const weightsUrl = new URL('weights.bin', jsonUrl).href;
  const [jsonResponse, weightsResponse] = await Promise.all([fetchImmutable(jsonUrl), fetchImmutable(weightsUrl)]);
  const parsed = v.safeParse(ModelJsonSchema, await jsonResponse.json());
  if (!parsed.success) throw new ModelRefused(`model.json is invalid: ${describeIssues(parsed.issues)}`);
  const model: ModelJson = parsed.output;
  if (model.specHash !== FEATURE_SPEC_HASH) throw new ModelRefused(`model.json carries feature spec ${model.specHash}`);
  const buffer = await weightsResponse.arrayBuffer();
  if (buffer.byteLength !== weightsByteLength(model.topology)) {
    throw new ModelRefused(`weights.bin has ${buffer.byteLength} bytes, the topology needs ${weightsByteLength(model.topology)}`);
  }
  const named = io.decodeWeights(buffer, model.weightsManifest[0].weights);
  const dim = headDim(model.topology);
  const mean = Float64Array.from(named['head/mean']!.dataSync());
  const covariance = named['head/covariance']!.dataSync();
  named['head/mean']!.dispose();
  named['head/covariance']!.dispose();
  const towers = named as unknown as TowerWeights;
  const { shopperDim, creativeDim } = model.topology;
  // Creative embeddings by the array they were computed from; a few arrays at most (one per
  // slot name of the current config), the oldest dropped past that.
  const embeddings = new Map<Float32Array, Tensor2D>();
  const creativeEmbedding = (creatives: Float32Array, n: number): Tensor2D => {
    let v = embeddings.get(creatives);
    if (!v) {
      v = keep(tower(towers, 'creative', tensor2d(creatives, [n, creativeDim])));
      embeddings.set(creatives, v);
      if (embeddings.size > 8) {
        const [oldest, t] = embeddings.entries().next().value!;
        t.dispose();
        embeddings.delete(oldest);
      }
    }
    return v;
  };
  return {
    version: manifest.version,
    topology: model.topology,
    towerWeights: new Float32Array(buffer.slice(0, towerParameterCount(model.topology) * 4)),
    dim,
    mean,
    covarianceFactor: cholesky(covariance, dim),
    towersKey: bytesKey(buffer, towerParameterCount(model.topology) * 4),
    offsets: model.offsets ?? null,
    headFeatures(shopper, creatives, crossFeatures, n) {
      // The values are read outside tidy: tidy walks whatever it returns looking for tensors,
      // element by element for a typed array (a Set insert per float: it was most of a decision).
      const phi = tidy(() => {
        const cross = tensor2d(crossFeatures, [n, CROSS_DIM]);
        const u = tower(towers, 'shopper', tensor2d(shopper, [1, shopperDim]));
        return combineTowers(u, creativeEmbedding(creatives, n), cross);
      });
      try {
        return phi.dataSync() as Float32Array;
      } finally {
        phi.dispose();
      }
    },
    dispose() {
      for (const t of Object.values(towers) as Tensor[]) t.dispose();
      for (const t of embeddings.values()) t.dispose();
      embeddings.clear();
    },
  };
}

/** A 32-bit FNV-1a hash of the first `length` bytes, with the length (an identity, not a defence: a model is trusted as its edge serves it). */
function bytesKey(buffer: ArrayBuffer, length: number): string {
  return `${length}:${fnv1a32Words(new Uint32Array(buffer, 0, length >>> 2)).toString(16)}`;
}
