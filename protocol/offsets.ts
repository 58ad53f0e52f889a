/**
 * Offsets: what a small shop can learn through the noise. A handful of numbers per public
 * creative-attribute cell (layout x message type) and per creative, released each round, give
 * multiplicative corrections to the base model's click predictions: log-offsets, hierarchical
 * (creative -> cell -> global, model-training/src/offset-fit.ts), carried by a model artifact
 * beside its head and applied on the device with Thompson sampling over their posterior.
 *
 * Why: the head's released statistics (276 numbers at dimension 22) rise above the noise in a few
 * directions at a small shop's scale (+0.4 points over the first model at 2,000 shoppers and
 * epsilon 8), where a few cells' clicks against the clicks the model expected there carry the
 * taste the first model missed (private linear bandits pay with their dimension).
 *
 * A device's part: for the decisions shown under the serving model since its last report, per
 * cell and per creative, [clicks, expected clicks], expected being the base model's predicted
 * click probability of what was shown (its head: phi . mean, as a probability). All of it together
 * is clipped to `offsetClip` (L2): a device of a few decisions a round sends a vector of norm
 * about 1, so its noise is far smaller than the counts' (whose bound is sized by impressions).
 */
import * as v from 'valibot';

/** A cell: the public attributes every config lists for a creative (never anything about a shopper). */
export function cellOf(c: { layout: string; messageType: string }): string {
  return `${c.layout}/${c.messageType}`;
}

/** A creative's and its cell's log-offset, as a model carries them: the posterior's mean and sd (natural log of a click multiplier). */
export const LogOffsetSchema = v.object({
  mean: v.pipe(v.number(), v.finite(), v.minValue(-5), v.maxValue(5)),
  sd: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(5)),
});
export type LogOffset = v.InferOutput<typeof LogOffsetSchema>;

const KEY = v.pipe(v.string(), v.minLength(1), v.maxLength(140));

/** The offsets a model artifact carries (model.json `offsets`): per cell and per creative; absent ones are 0 (no correction). */
export const OffsetsSchema = v.object({
  /** The log-multiplier of every prediction alike (the head's overall calibration): it changes no ranking, but a device's own clicks are read against it. */
  global: v.optional(v.pipe(v.number(), v.finite(), v.minValue(-5), v.maxValue(5)), 0),
  cells: v.pipe(
    v.record(KEY, LogOffsetSchema),
    v.check((r) => Object.keys(r).length <= 200, 'at most 200 cells'),
  ),
  creatives: v.pipe(
    v.record(KEY, LogOffsetSchema),
    v.check((r) => Object.keys(r).length <= 5000, 'at most 5,000 creatives'),
  ),
});
export type Offsets = v.InferOutput<typeof OffsetsSchema>;

/** [clicks, expected clicks]: what a device adds to a cell or a creative. */
const PAIR = v.pipe(v.array(v.pipe(v.number(), v.finite(), v.minValue(0))), v.length(2));

/** The part of a report (wire.ts ReportSchema `offsets`). */
export const OffsetPartSchema = v.strictObject({
  cells: v.pipe(
    v.record(KEY, PAIR),
    v.check((r) => Object.keys(r).length <= 200, 'at most 200 cells'),
  ),
  creatives: v.pipe(
    v.record(KEY, PAIR),
    v.check((r) => Object.keys(r).length <= 200, 'at most 200 creatives'),
  ),
});
export type OffsetPart = v.InferOutput<typeof OffsetPartSchema>;

/** The part's numbers in one list (for its norm and its clipping). */
export function offsetValues(part: OffsetPart): number[] {
  return [...Object.values(part.cells), ...Object.values(part.creatives)].flat();
}

/** The base model's click prediction for a shown decision: its head's phi . mean, as a probability. */
export function expectedClick(phi: ArrayLike<number>, mean: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < phi.length; i++) s += phi[i]! * mean[i]!;
  return Math.min(1, Math.max(0, s));
}

/** The log-multiplier's posterior of a creative in its cell (cell and creative offsets are independent, so they add). */
export function logOffsetOf(offsets: Offsets, creativeId: string, cell: string): LogOffset {
  const a = offsets.cells[cell];
  const b = offsets.creatives[creativeId];
  return { mean: (a?.mean ?? 0) + (b?.mean ?? 0), sd: Math.sqrt((a?.sd ?? 0) ** 2 + (b?.sd ?? 0) ** 2) };
}

/**
 * Default bound of a device's offsets part (L2): a few decisions' clicks and expected clicks, twice
 * over (cell and creative); the 90th percentile of the simulator's devices at two decisions a round
 * (1.48; protocol/privacy.ts says why the bounds sit near the norms).
 */
export const DEFAULT_OFFSET_CLIP = 1.5;
