/**
 * The trainer's round commands (the pull itself is round-pull.ts): fit a candidate whose last
 * layer is the serving model's posterior updated with them, and publish it. Pulled rounds and
 * fitted candidates live under the state directory (default .vitrine/), one folder per site.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cholesky } from '../../protocol/linalg.ts';
import { headDim, modelVersion, weightSpecs } from '../../protocol/model-artifact.ts';
import type { ModelJson } from '../../protocol/model-artifact.ts';
import { covarianceFromEvidence, posteriorUnderReleaseNoise, reweighted } from './bayesian-head.ts';
import type { EdgeAdminClient } from './edge-admin-client.ts';
import { evaluateCandidates, gateLook } from '../../protocol/off-policy-estimate.ts';
import type { CandidateEvaluation } from '../../protocol/off-policy-estimate.ts';
import { centeredOnPrior, checkSignal, evidenceAboveNoise, NotEnoughSignal, poolHeads } from './round-statistics.ts';
import { fitOffsets } from './offset-fit.ts';
import { cellOf } from '../../protocol/offsets.ts';
import type { Offsets } from '../../protocol/offsets.ts';
import { towerParameterCount } from '../../protocol/tower-gradient.ts';
import type { ReleasedHead } from './round-statistics.ts';
import { candidateHeadWidth, posteriorWidth } from './head-width.ts';

import { pulledHeads, pulledOffsets, pulledOpe, pulledRounds } from './round-pull.ts';
import type { SavedRound, TrainerPaths } from './round-pull.ts';

export interface FitResult {
  version: string;
  base: string;
  /** Rounds whose head statistics updated the last layer (none when they were not collected or the noise drowned them: `headKept` says why). */
  rounds: number[];
  examples: number;
  noiseStd: number;
  headKept: string | null;
  /** Directions of the last layer the released data rose above the noise in (of `dim`): where the posterior narrowed. */
  evidence: { directions: number; dim: number };
  /** The offsets fitted (offset-fit.ts), null when no pulled round released any for the base model. */
  offsets: { rounds: number[]; cells: Offsets['cells']; creatives: number; cellPriorSd: number; creativePriorSd: number } | null;
  /** The federated-averaging step of the towers: taken, or why not. */
  towers: { rounds: number[]; reports: number; stepNorm: number; skipped: string | null };
}

export interface FitOptions {
  minSignal: number;
  /** Server learning rate of the towers' step: weights -= rate x (sum of clipped device gradients) / reports. */
  towerRate: number;
  /**
   * How much of the serving model's evidence carries into the fit, in (0, 1]: its posterior
   * precision is multiplied by this before the new rounds are added. Shoppers' tastes drift and
   * the catalog changes; with 1 every past round counts forever, the posterior only narrows,
   * and the last layer stops following the present (discounted Bayesian regression).
   */
  carry: number;
}

export const DEFAULT_ROUND_FIT: FitOptions = { minSignal: 10, towerRate: 0.5, carry: 0.7 };

/**
 * Why fit options make no sense, or null, naming each option by its command-line flag (the
 * trainer's and the simulator's are spelled alike). The one check for both, so they refuse the
 * same values before any work starts.
 */
export function fitOptionsProblem(o: FitOptions): string | null {
  if (!(o.minSignal > 0)) return `--min-signal must be a positive number (got ${o.minSignal})`;
  if (!(o.towerRate >= 0 && o.towerRate <= 10)) return `--tower-rate must be a number from 0 to 10 (got ${o.towerRate})`;
  if (!(o.carry > 0 && o.carry <= 1)) return `--carry must be a number above 0 and at most 1 (got ${o.carry})`;
  return null;
}

/**
 * One federated-averaging step for the towers from the released gradient sums of `base`: the
 * average device gradient (sum / reports, noise included) times the rate. Skipped when the noise
 * is as large as the signal: E|noised sum|^2 = |sum|^2 + P sigma^2, so the step is taken only when
 * the noised sum's squared norm is at least twice the noise's expected P sigma^2.
 */
export function towerStep(rounds: readonly SavedRound[], base: string, parameters: number, rate: number): { step: Float64Array | null } & FitResult['towers'] {
  const mine = rounds.filter((r) => r.towers && r.towers.modelVersion === base && r.towers.sums.length === parameters && r.noise.towerStd !== undefined);
  const used = mine.map((r) => r.round);
  if (mine.length === 0) return { step: null, rounds: [], reports: 0, stepNorm: 0, skipped: `no released round carries tower gradients for model ${base}` };
  const sum = new Float64Array(parameters);
  let reports = 0;
  let noiseVariance = 0;
  for (const r of mine) {
    r.towers!.sums.forEach((x, i) => (sum[i]! += x));
    reports += r.towers!.reports;
    noiseVariance += r.noise.towerStd! ** 2;
  }
  // Releases have a fixed shape: a round nobody sent a gradient in releases noise alone (its
  // reports, noised too, about 0).
  if (reports < 1)
    return { step: null, rounds: used, reports, stepNorm: 0, skipped: `no device sent a tower gradient for model ${base} in the released rounds` };
  const squared = sum.reduce((s, x) => s + x * x, 0);
  if (squared < 2 * parameters * noiseVariance) {
    return {
      step: null,
      rounds: used,
      reports,
      stepNorm: 0,
      skipped: `the noise is as large as the ${reports} devices' gradient signal; towers kept (wait for more devices or rounds)`,
    };
  }
  const step = sum.map((x) => (-rate * x) / reports);
  return { step, rounds: used, reports, stepNorm: Math.sqrt(step.reduce((s, x) => s + x * x, 0)), skipped: null };
}

/** Where the head's mean and covariance sit in weights.bin (float32 offsets). */
function headOffsets(model: ModelJson): { mean: number; covariance: number; dim: number } {
  let at = 0;
  let mean = -1;
  let covariance = -1;
  for (const spec of weightSpecs(model.topology)) {
    if (spec.name === 'head/mean') mean = at;
    if (spec.name === 'head/covariance') covariance = at;
    at += spec.shape.reduce((a, b) => a * b, 1);
  }
  return { mean, covariance, dim: headDim(model.topology) };
}

/**
 * A candidate from the serving model and the pulled rounds released for it: its last layer's
 * posterior updated exactly with their pooled (noised) head statistics, where there are any and
 * they stand clear of the noise; the towers stepped with their gradient, where it rises above its
 * noise; and its offsets (offset-fit.ts) fitted to their released clicks against the clicks the
 * serving head expected, where they were released. At a small shop's scale the rounds release no
 * head or gradient (protocol/report-parts.ts) and the candidate is the serving model with new
 * offsets. Refuses when there is nothing to learn from, or the update is not a proper posterior.
 */
export async function fitFromRounds(client: EdgeAdminClient, paths: TrainerPaths, site: string, options: FitOptions = DEFAULT_ROUND_FIT): Promise<FitResult> {
  const config = await client.config();
  if (!config.model) throw new Error(`site ${site} serves no model yet: run bootstrap first`);
  const base = config.model.version;
  const { model, weights } = await client.modelFiles(base);
  const { mean: meanAt, covariance: covAt, dim } = headOffsets(model);
  const floats = new Float32Array(weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength));
  // The fit starts from the posterior's full width: the serving model's narrowing (head-width.ts) undone.
  const widened = floats.slice();
  widened.set(posteriorWidth(floats.subarray(covAt, covAt + dim * dim), model.headVarianceScale), covAt);
  const updated = widened.slice();
  const head = fitHead(pulledHeads(paths), base, model, widened, { meanAt, covAt, dim }, options);
  if (head.post) updated.set(Float32Array.from(head.post.mean), meanAt);
  const width = candidateHeadWidth(
    head.post ? Float32Array.from(head.post.covariance) : widened.subarray(covAt, covAt + dim * dim),
    config.parts.includes('head'),
  );
  updated.set(width.covariance, covAt);
  // The towers' step moves phi a little under the posterior just fitted on the old towers' phi;
  // a small rate keeps that mismatch small, and the candidate is judged off-policy before it serves.
  const towers = towerStep(pulledRounds(paths), base, towerParameterCount(model.topology), options.towerRate);
  if (towers.step) for (let i = 0; i < towers.step.length; i++) updated[i]! += towers.step[i]!;
  const cellOfCreative = new Map(config.candidates.map((c) => [c.id, cellOf(c)]));
  // Offsets are relative to the head's predictions: every round logged under a model with this
  // very head and towers (the serving model, and the offsets-only candidates before it) pools.
  const sameHead = await modelsPredictingAlike(
    client,
    pulledOffsets(paths).map((r) => r.modelVersion),
    floats,
    covAt,
  );
  const offsetRounds = pulledOffsets(paths).map((r) => (sameHead.has(r.modelVersion) ? { ...r, modelVersion: base } : r));
  const offsets = fitOffsets(offsetRounds, base, cellOfCreative, { carry: options.carry });
  if (!head.post && !towers.step && !offsets)
    throw new NotEnoughSignal(`nothing to learn yet from the pulled rounds of model ${base}: ${head.kept}; ${towers.skipped}; no released offsets`);
  const notes = [
    head.post
      ? `its last layer updated with released rounds ${head.pooled!.rounds.join(', ')} (${Math.round(head.pooled!.count)} examples, noise sd ${Math.round(head.pooled!.noiseStd)})`
      : null,
    towers.step ? `towers stepped with ${towers.reports} device gradients` : null,
    offsets
      ? `offsets of ${Object.keys(offsets.offsets.cells).length} cells and ${Object.keys(offsets.offsets.creatives).length} creatives from rounds ${offsets.rounds.join(', ')}`
      : null,
  ].filter((x) => x !== null);
  const next: ModelJson = { ...model, trainedOn: `${base} with ${notes.join('; ')} of ${site}`.slice(0, 500) };
  if (width.scale === undefined) delete next.headVarianceScale;
  else next.headVarianceScale = width.scale;
  if (offsets) next.offsets = offsets.offsets;
  else delete next.offsets; // offsets fitted for another base head do not carry over
  const bytes = new Uint8Array(updated.buffer);
  const text = JSON.stringify(next);
  const version = await modelVersion(text, bytes);
  const dir = path.join(paths.candidates, version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.json'), text);
  writeFileSync(path.join(dir, 'weights.bin'), bytes);
  writeFileSync(path.join(paths.candidates, 'latest'), version);
  const { step: _step, ...towerSummary } = towers;
  return {
    version,
    base,
    rounds: head.pooled?.rounds ?? [],
    examples: head.pooled?.count ?? 0,
    noiseStd: head.pooled?.noiseStd ?? 0,
    headKept: head.post ? null : head.kept,
    evidence: { directions: head.directions, dim },
    towers: towerSummary,
    offsets: offsets && {
      rounds: offsets.rounds,
      cells: offsets.offsets.cells,
      creatives: Object.keys(offsets.offsets.creatives).length,
      cellPriorSd: offsets.cellPriorSd,
      creativePriorSd: offsets.creativePriorSd,
    },
  };
}

/**
 * The model versions among `versions` that predict exactly as `floats` does: the same towers and
 * head mean (every weight before the head's covariance, which sets only how widely it explores),
 * so their expected clicks are the same predictions.
 */
async function modelsPredictingAlike(client: EdgeAdminClient, versions: readonly string[], floats: Float32Array, covAt: number): Promise<Set<string>> {
  const same = new Set<string>();
  for (const version of new Set(versions)) {
    const files = await client.modelFiles(version).catch(() => null);
    if (!files || files.weights.byteLength !== floats.byteLength) continue;
    const other = new Float32Array(files.weights.buffer.slice(files.weights.byteOffset, files.weights.byteOffset + files.weights.byteLength));
    let alike = true;
    for (let i = 0; i < covAt && alike; i++) alike = other[i] === floats[i];
    if (alike) same.add(version);
  }
  return same;
}

/**
 * The last layer's update from the pulled head statistics of `base`: the noise-aware posterior,
 * regularized by the diagonal shift as pseudo-data centred on the serving model (a shrinkage
 * estimator: thin directions stay where they were), its width from the evidence alone. Null, and
 * why, when there are no statistics or the noise drowns them.
 */
function fitHead(
  heads: ReleasedHead[],
  base: string,
  model: ModelJson,
  floats: Float32Array,
  at: { meanAt: number; covAt: number; dim: number },
  options: FitOptions,
): { post: { mean: Float64Array; covariance: Float64Array } | null; pooled: ReturnType<typeof poolHeads> | null; directions: number; kept: string } {
  const { meanAt, covAt, dim } = at;
  let pooled: ReturnType<typeof poolHeads>;
  try {
    pooled = poolHeads(heads, base);
    checkSignal(pooled, options.minSignal);
  } catch (e) {
    if (e instanceof NotEnoughSignal) return { post: null, pooled: null, directions: 0, kept: `last layer kept: ${e.message}` };
    throw e;
  }
  if (dim !== pooled.dim) throw new Error(`the released statistics have dimension ${pooled.dim}; model ${base} has ${dim}`);
  const serving = {
    dim,
    mean: Float64Array.from(floats.subarray(meanAt, meanAt + dim)),
    covariance: Float64Array.from(floats.subarray(covAt, covAt + dim * dim)),
  };
  const prior = reweighted(serving, options.carry);
  const mean = posteriorUnderReleaseNoise(prior, centeredOnPrior(pooled, prior.mean), model.noiseVariance, pooled.noiseStd).mean;
  const evidence = evidenceAboveNoise(pooled);
  const post = { mean, covariance: covarianceFromEvidence(prior, evidence, model.noiseVariance, pooled.noiseStd) };
  // A covariance that is not positive definite (or not finite) is not a posterior, and devices
  // could not sample from it: said out loud (NotPositiveDefinite), never patched with jitter.
  if (!post.mean.every(Number.isFinite) || !post.covariance.every(Number.isFinite))
    throw new Error('the updated last layer is not finite: a bug in the fit, not in the data');
  cholesky(post.covariance, dim);
  return { post, pooled, directions: evidence.length, kept: '' };
}

/** Every candidate evaluated in the pulled rounds against the model serving now. */
export async function evaluatePulled(client: EdgeAdminClient, paths: TrainerPaths): Promise<{ serving: string; evaluations: CandidateEvaluation[] }> {
  const config = await client.config();
  if (!config.model) throw new Error('the site serves no model: nothing to evaluate against (run bootstrap first)');
  const evaluations = evaluateCandidates(pulledOpe(paths), config.model.version);
  return { serving: config.model.version, evaluations };
}

export interface AutoPromotion {
  serving: string;
  promoted: string | null;
  /** Candidates taken out of evaluation (off-policy-estimate.ts candidatesToRetire). */
  retired: string[];
  evaluations: CandidateEvaluation[];
}

/** The gate's look (protocol/off-policy-estimate.ts gateLook) over the pulled rounds, carried out: the promotion, then the retirements. */
export async function promoteIfBetter(client: EdgeAdminClient, paths: TrainerPaths): Promise<AutoPromotion> {
  const { serving, evaluations: pulled } = await evaluatePulled(client, paths);
  const listed = (await client.config()).candidateModels.map((m) => m.version);
  const { evaluations, promote, retire } = gateLook(pulled, listed);
  if (promote) await client.promote(promote);
  for (const version of retire) await client.retire(version);
  return { serving, promoted: promote, retired: retire, evaluations };
}

/** Uploads a fitted candidate (the latest fit by default) to the edge as a candidate. */
export async function publishCandidate(client: EdgeAdminClient, paths: TrainerPaths, version?: string): Promise<{ version: string; created: boolean }> {
  const chosen = version ?? (existsSync(path.join(paths.candidates, 'latest')) ? readFileSync(path.join(paths.candidates, 'latest'), 'utf8').trim() : null);
  if (!chosen) throw new Error('no fitted candidate: run fit first');
  const dir = path.join(paths.candidates, chosen);
  if (!existsSync(path.join(dir, 'model.json'))) throw new Error(`no candidate ${chosen} under ${paths.candidates}`);
  const model = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
  return client.uploadModel(model, new Uint8Array(readFileSync(path.join(dir, 'weights.bin'))));
}
