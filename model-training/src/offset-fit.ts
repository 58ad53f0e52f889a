/**
 * Fitting offsets (protocol/offsets.ts) from released rounds: hierarchical empirical Bayes on log
 * click multipliers of the base model's predictions, creative -> cell -> global.
 *
 * Each key's released [clicks, expected clicks] are pooled over the rounds whose expected clicks
 * come from one base head, the older ones discounted by `carry` a round (tastes drift). A cell's
 * observed log-multiplier (beyond the global one) is log(clicks / expected); its sampling variance
 * is the clicks' (Poisson, and the release noise) and the expected clicks' (the release noise)
 * over their squares. Cells share a normal prior of mean 0 whose variance is estimated from the
 * cells themselves (method of moments, with a floor so a small site can still learn); each
 * cell's posterior is the precision-weighted mix. Creatives the same way, beside their cell's
 * posterior mean. What the noise swamps is shrunk to 0 (no correction), and its posterior sd says
 * how unsure: devices sample from it (Thompson sampling over offsets).
 */
import type { LogOffset, Offsets } from '../../protocol/offsets.ts';

/** A round's released offsets, as pull saved them. */
export interface ReleasedOffsets {
  round: number;
  /** The model whose head the expected clicks are of. */
  modelVersion: string;
  entries: { key: string; clicks: number; expected: number }[];
  noiseStd: number;
}

export interface OffsetFitOptions {
  /** Weight of a round one round older than the next, in (0, 1] (round-training.ts carry): the cells'. */
  carry: number;
  /** The creatives' own carry (default CREATIVE_CARRY; never below `carry`). */
  creativeCarry?: number;
}

/**
 * A creative's rounds are discounted less than a cell's: what sets a creative apart from its
 * cell (its picture, its line) is the creative's and does not drift as shoppers' tastes do,
 * and a creative sees a fifth to a tenth of its cell's clicks, so at a small shop its offset
 * is learned only by pooling many rounds. At carry 0.7 a fit pools about 5.7 rounds' worth
 * ((1 + c) / (1 - c)); at 0.95, about 39. (Weekly releases of the creatives' sums would not
 * do better: the ledger accounts a shopper across the period, and a shopper in 7 rounds of one
 * sum moves it 7 times as far, so its noise would have to be sqrt(7) times one round's, which
 * is the noise of 7 daily releases added up.)
 */
export const CREATIVE_CARRY = 0.95;

export interface OffsetFit {
  offsets: Offsets;
  rounds: number[];
  /** The global multiplier (log), which moves every score alike and so changes no decision: reported, not shipped. */
  globalLog: number;
  /** Prior sds the data gave the cells and the creatives. */
  cellPriorSd: number;
  creativePriorSd: number;
}

/** Pseudo-counts that keep a log-ratio finite when a key saw almost nothing: half an expected click either side. */
const PSEUDO = 0.5;
/** The least prior variance of a level: with a handful of cells the moment estimate can come out 0, which would forbid learning. */
const MIN_PRIOR_VARIANCE = 0.02;

interface Pooled {
  clicks: number;
  expected: number;
  /** Variance of the release noise in each of the pooled sums. */
  noiseVariance: number;
}

function pool(rounds: readonly ReleasedOffsets[], carry: number): Map<string, Pooled> {
  const latest = Math.max(...rounds.map((r) => r.round));
  const pooled = new Map<string, Pooled>();
  for (const r of rounds) {
    const w = carry ** (latest - r.round);
    for (const e of r.entries) {
      const p = pooled.get(e.key) ?? { clicks: 0, expected: 0, noiseVariance: 0 };
      // Post-processing: a noised sum below 0 is read as 0 (free under DP).
      p.clicks += w * Math.max(0, e.clicks);
      p.expected += w * Math.max(0, e.expected);
      p.noiseVariance += w * w * r.noiseStd * r.noiseStd;
      pooled.set(e.key, p);
    }
  }
  return pooled;
}

interface Observation {
  key: string;
  y: number;
  variance: number;
}

/** A key's observed log-multiplier beyond `offset`, and its sampling variance. */
function observe(key: string, p: Pooled, offset: number): Observation {
  const clicks = p.clicks + PSEUDO * Math.exp(offset);
  const expected = p.expected + PSEUDO;
  const y = Math.log(clicks / expected) - offset;
  const variance = (p.clicks + p.noiseVariance + PSEUDO) / (clicks * clicks) + (p.noiseVariance + PSEUDO) / (expected * expected);
  return { key, y, variance };
}

/** Normal-normal shrinkage with the prior variance estimated from the observations themselves. */
function shrink(observations: readonly Observation[]): { posterior: Map<string, LogOffset>; priorVariance: number } {
  const moments = observations.map((o) => o.y * o.y - o.variance);
  const estimate = moments.length > 0 ? moments.reduce((a, b) => a + b, 0) / moments.length : 0;
  const priorVariance = Math.max(MIN_PRIOR_VARIANCE, estimate);
  const posterior = new Map<string, LogOffset>();
  for (const o of observations) {
    const weight = priorVariance / (priorVariance + o.variance);
    posterior.set(o.key, { mean: clampLog(weight * o.y), sd: Math.min(5, Math.sqrt(weight * o.variance)) });
  }
  return { posterior, priorVariance };
}

const clampLog = (x: number) => Math.min(5, Math.max(-5, x));

/**
 * The offsets the released rounds give (null when none carry any for `base`). `cellOf` maps a
 * creative id to its cell (the serving config's catalog, public): a creative's offset is what
 * its clicks say beyond its cell's.
 */
export function fitOffsets(
  released: readonly ReleasedOffsets[],
  base: string,
  cellOf: ReadonlyMap<string, string>,
  options: OffsetFitOptions,
): OffsetFit | null {
  const rounds = released.filter((r) => r.modelVersion === base && r.entries.length > 0);
  if (rounds.length === 0) return null;
  const cells = [...pool(rounds, options.carry)].filter(([k]) => k.startsWith('cell:'));
  const creatives = [...pool(rounds, Math.max(options.carry, options.creativeCarry ?? CREATIVE_CARRY))].filter(([k]) => k.startsWith('creative:'));
  const total = cells.reduce((s, [, p]) => ({ clicks: s.clicks + p.clicks, expected: s.expected + p.expected }), { clicks: 0, expected: 0 });
  const globalLog = clampLog(Math.log((total.clicks + PSEUDO) / (total.expected + PSEUDO)));
  const cellFit = shrink(cells.map(([k, p]) => observe(k, p, globalLog)));
  const cellMean = (id: string) => cellFit.posterior.get(`cell:${cellOf.get(id)}`)?.mean ?? 0;
  const creativeFit = shrink(
    creatives.filter(([k]) => cellOf.has(k.slice('creative:'.length))).map(([k, p]) => observe(k, p, globalLog + cellMean(k.slice('creative:'.length)))),
  );
  const strip = (m: Map<string, LogOffset>, prefix: string) => Object.fromEntries([...m].map(([k, v]) => [k.slice(prefix.length), v]));
  return {
    offsets: { global: globalLog, cells: strip(cellFit.posterior, 'cell:'), creatives: strip(creativeFit.posterior, 'creative:') },
    rounds: rounds.map((r) => r.round),
    globalLog,
    cellPriorSd: Math.sqrt(cellFit.priorVariance),
    creativePriorSd: Math.sqrt(creativeFit.priorVariance),
  };
}
