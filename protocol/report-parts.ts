/**
 * Which parts a site's devices send and its rounds release, by the site's scale: a part is
 * collected, noised and charged only where the trainer learns from it at that scale.
 *
 * Every part is a Gaussian mechanism on the budget, so a part that buys nothing makes every
 * other part noisier (the noise is paced over the period: protocol/budget-pacing.ts). At a small
 * shop's scale the head's statistics (276 numbers) and the towers' gradient stay under the noise
 * (the head's fit added +0.4 points at 2,000 shoppers and epsilon 8, and the towers' step was
 * skipped at every small site's fit), while a few numbers per cell and creative carry what the
 * first model missed (protocol/offsets.ts). So a small site releases per-creative counts,
 * offsets and the off-policy sums the promotion gate needs; a large one the head and towers too.
 */
import { COUNT_MECHANISMS } from './privacy.ts';

/** The parts of a report beside its per-creative counts (which every report carries). */
export const MODEL_PARTS = ['head', 'ope', 'towers', 'offsets'] as const;
export type ModelPart = (typeof MODEL_PARTS)[number];

/** A small shop's parts: offsets, and the off-policy sums the promotion gate decides on. */
export const SMALL_SHOP_PARTS: readonly ModelPart[] = ['ope', 'offsets'];
export const ALL_PARTS: readonly ModelPart[] = MODEL_PARTS;

/**
 * The noised contributors per round from which a site's rounds release the head and towers too
 * ("auto"). From a numerical replica of the head's fit (issue 28; it reproduces the project's own
 * +0.4 points at 2,000 shoppers): the head alone adds +3.3 points at 5,000 shoppers a round,
 * +6.1 at 10,000 and +9.8 at 20,000 (epsilon 8 over 10 rounds), where offsets reach +10 or more
 * from 2,000: below 20,000 the head's mechanism is better spent as less noise on the others.
 * docs/lab/ records what the simulator measured of it.
 */
export const HEAD_SCALE = 20_000;

/**
 * Where a site that collects the head stops: under 0.8 of HEAD_SCALE. A shop whose days fall
 * either side of the line would otherwise switch its parts (and its noise) day by day, and its
 * head would be fitted from every other round.
 */
export const HEAD_SCALE_LEAVE = 0.8 * HEAD_SCALE;

/** A site's choice: by its scale, or always one of the two. */
export const LEARNING_MODES = ['auto', 'offsets', 'full'] as const;
export type Learning = (typeof LEARNING_MODES)[number];

/**
 * Whether a site is at the head's scale after a release of `contributors` (its noised contributor
 * count, public), from whether it was before: it enters at HEAD_SCALE and leaves under
 * HEAD_SCALE_LEAVE.
 */
export function atHeadScale(before: boolean, contributors: number): boolean {
  return before ? contributors >= HEAD_SCALE_LEAVE : contributors >= HEAD_SCALE;
}

/** The parts a site collects now: by its choice, and for "auto" by its scale (atHeadScale after its last released round; false before any). */
export function partsFor(learning: Learning, headScale: boolean): readonly ModelPart[] {
  if (learning === 'full') return ALL_PARTS;
  if (learning === 'offsets') return SMALL_SHOP_PARTS;
  return headScale ? ALL_PARTS : SMALL_SHOP_PARTS;
}

/** Gaussian mechanisms a released round is charged with these parts (with a serving model): the counts, each part, and the count vector. */
export function roundMechanisms(parts: readonly ModelPart[]): number {
  return 1 + parts.length + COUNT_MECHANISMS;
}
