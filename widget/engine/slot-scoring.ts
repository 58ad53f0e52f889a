/**
 * Scoring a slot's candidates: the policy's distribution over the eligible creatives under a
 * model (Thompson shares with the exploration floor, policy.ts) or the popularity prior, the
 * same for the decision, the candidate models' off-policy scores and the simulator's frozen model.
 */
import { LAYOUT_TRAITS, MIN_LAYOUT_ITEMS } from '../../protocol/catalog.ts';
import { CREATIVE_DIM, encodeCreative } from '../../protocol/features.ts';
import type { Candidate, SiteConfig, Template } from '../../protocol/wire.ts';
import { drawMultipliers, factorScale, headScoreDraws, sharesOfScoreDraws, softmaxShares, withFloor } from '../../protocol/policy.ts';
import type { ScoreDraws } from '../../protocol/policy.ts';
import { cellOf, logOffsetOf } from '../../protocol/offsets.ts';
import type { CellHistory } from './cell-history.ts';
import type { Uniform } from '../../protocol/policy.ts';
import type { ScoringModel } from './scoring-model.ts';

/** The model's inputs about the shopper on this page: the shopper row, and the cross features against every candidate ([n, CROSS_DIM]). */
export interface ShopperInputs {
  row: Float32Array;
  cross: Float32Array;
}

/** A situation's head under one model: its features, the posterior they were drawn under, and the draws (policy.ts). */
export interface HeadDraws {
  towersKey: string;
  phi: Float32Array;
  mean: Float64Array;
  factor: Float64Array;
  draws: ScoreDraws;
}

const sameValues = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Temperature of the popularity prior used before any model is served. */
const PRIOR_TEMPERATURE = 0.25;

export class SlotScoring {
  /** Encoded candidates per config and slot: they change only with the config. */
  private encoded = new WeakMap<SiteConfig, Map<string, Float32Array>>();

  constructor(private readonly random: Uniform) {}

  /**
   * The policy's distribution over the eligible candidates: Thompson shares under the model (or
   * the popularity prior without one, or when the model fails: `modelFailed` is told), with the
   * exploration floor.
   */
  probabilities(
    config: SiteConfig,
    model: ScoringModel | null,
    shopper: ShopperInputs,
    candidates: Candidate[],
    slot: string,
    eligible: number[],
    draws: number,
    modelFailed: (model: ScoringModel, reason: string) => void,
    history: CellHistory | null = null,
  ): { p: Float64Array; modelVersion: string | null; phi: Float32Array | null; dim: number; head: HeadDraws | null } {
    if (model) {
      try {
        return this.policyShares(config, model, shopper, candidates, slot, eligible, draws, history);
      } catch (e) {
        modelFailed(model, e instanceof Error ? e.message : String(e));
      }
    }
    return {
      p: withFloor(
        softmaxShares(
          eligible.map((i) => candidates[i]!.popularity),
          PRIOR_TEMPERATURE,
        ),
        config.explorationFloor,
      ),
      modelVersion: null,
      phi: null,
      dim: 0,
      head: null,
    };
  }

  /**
   * A model's policy (Thompson shares with the floor) over the eligible candidates; throws when
   * the model cannot score. With offsets, each candidate's multiplier is drawn with every draw
   * of the head: the population's (the model's offsets' posterior) times this shopper's own
   * beyond it (`history`, cell-history.ts). Drawn with every draw rather than once a decision,
   * the shares are the policy's probabilities with far less Monte Carlo noise, which is what a
   * candidate's importance weights are made of.
   *
   * `onHead`: this very situation's features and head draws under another model (what an earlier
   * call returned as `head`). A model with the same towers (`towersKey`) takes its features; one
   * with the same mean as well, and a covariance that is that one's up to a scale, is scored on
   * its draws (factorScale) with its own offsets: common random numbers, and neither the towers
   * nor the head runs again.
   */
  policyShares(
    config: SiteConfig,
    model: ScoringModel,
    shopper: ShopperInputs,
    candidates: Candidate[],
    slot: string,
    eligible: number[],
    draws: number,
    history: CellHistory | null = null,
    onHead: HeadDraws | null = null,
  ) {
    const sameTowers = onHead !== null && onHead.towersKey === model.towersKey;
    const phi = sameTowers ? onHead.phi : model.headFeatures(shopper.row, this.creativeRows(config, candidates, slot), shopper.cross, candidates.length);
    const scale =
      sameTowers && onHead.draws.noise.length === draws * eligible.length && sameValues(onHead.mean, model.mean)
        ? factorScale(model.covarianceFactor, onHead.factor)
        : null;
    let multipliers: ((random: Uniform) => Float64Array) | null = null;
    if (model.offsets) {
      const offsets = model.offsets;
      const cells = eligible.map((i) => cellOf(candidates[i]!));
      const logOffsets = eligible.map((i, k) => logOffsetOf(offsets, candidates[i]!.id, cells[k]!));
      const own = history ? history.drawer(cells, (cell) => Math.exp(offsets.global + (offsets.cells[cell]?.mean ?? 0))) : null;
      const drawn = new Float64Array(eligible.length);
      multipliers = (random) => {
        drawMultipliers(logOffsets, random, drawn);
        if (own) {
          const device = own(random);
          for (let k = 0; k < drawn.length; k++) drawn[k]! *= device[k]!;
        }
        return drawn;
      };
    }
    const drawn = scale === null ? headScoreDraws(phi, model.dim, model.mean, model.covarianceFactor, draws, eligible, this.random) : onHead!.draws;
    const shares = sharesOfScoreDraws(drawn, scale ?? 1, this.random, multipliers);
    const head: HeadDraws = scale === null ? { towersKey: model.towersKey, phi, mean: model.mean, factor: model.covarianceFactor, draws: drawn } : onHead!;
    return { p: withFloor(shares, config.explorationFloor), modelVersion: model.version, phi, dim: model.dim, head };
  }

  creativeRows(config: SiteConfig, candidates: Candidate[], slot: string): Float32Array {
    let bySlot = this.encoded.get(config);
    if (!bySlot) {
      bySlot = new Map();
      this.encoded.set(config, bySlot);
    }
    let rows = bySlot.get(slot);
    if (!rows) {
      rows = new Float32Array(candidates.length * CREATIVE_DIM);
      candidates.forEach((c, i) => rows!.set(encodeCreative(c, slot), i * CREATIVE_DIM));
      bySlot.set(slot, rows);
    }
    return rows;
  }
}

/**
 * The candidates that can be drawn: their template is in the config, and a carousel has at
 * least two products to show. (Kept per config: it changes only with the config.)
 */
const usableByConfig = new WeakMap<SiteConfig, { templates: Map<string, Template>; candidates: Candidate[] }>();
export function usable(config: SiteConfig): { templates: Map<string, Template>; candidates: Candidate[] } {
  let u = usableByConfig.get(config);
  if (!u) {
    const templates = new Map<string, Template>(config.templates.map((t) => [t.id, t]));
    u = {
      templates,
      candidates: config.candidates.filter((c) => templates.has(c.templateId) && (!LAYOUT_TRAITS[c.layout].items || c.items.length >= MIN_LAYOUT_ITEMS)),
    };
    usableByConfig.set(config, u);
  }
  return u;
}
