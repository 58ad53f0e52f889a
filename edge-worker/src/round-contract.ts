/**
 * What a round's Durable Objects are told and what they answer (round-aggregator.ts): the round's
 * terms and plan, the model parts a worker has checked, where a round stands, and what became of
 * a report's parts. The worker's routes and the objects both speak these.
 */
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';

/** A site's round, as a shard names its coordinator (a stub cannot be passed between objects). */
export interface RoundName {
  site: string;
  round: number;
}

/** What the round's objects are told: the round's rules, from the site's settings when the round began. */
export interface RoundTerms {
  /** When the round began, ms since the epoch (null for a round object older than starts were stored). */
  start: number | null;
  /** When the round closes, ms since the epoch. */
  deadline: number;
  minCohort: number;
  privacy: PrivacyTerms;
}

/** A round's plan, fixed by its coordinator at the round's first request: what every shard and worker isolate uses all round. */
export interface RoundPlan {
  shards: number;
  terms: RoundTerms;
  /** The public part of the round's token key. */
  publicKey: Uint8Array;
}

/**
 * The model parts of a report the worker has checked (shape and clipping bounds) against the
 * model serving when it arrived, `model`: what the object may add to the round's sums.
 */
export interface CheckedModelParts {
  model: string;
  head: number[] | null;
  ope: { modelVersion: string; sums: number[] }[] | null;
  towers: Float64Array | null;
  /** Offsets part entries: a key the site's catalog allows (site-store.ts offsetKeys), [clicks, expected]. */
  offsets?: { key: string; clicks: number; expected: number }[] | null;
}

/** Where a round stands: `contributors` (noised) only once it was counted. */
interface RoundTimes {
  minCohort: number;
  /** When the round began (null for an object older than stored starts) and closes, ms since the epoch. */
  start: number | null;
  deadline: number;
}
export type RoundStatus =
  | ({ status: 'open' } & RoundTimes)
  | ({ status: 'closed'; noiseMultiplier: number } & RoundTimes)
  | ({ status: 'below_cohort'; contributors: number } & RoundTimes)
  | ({ status: 'releasable'; contributors: number; noiseMultiplier: number } & RoundTimes)
  | ({ status: 'released'; contributors: number; release: NoisedRelease } & RoundTimes);

/** ignored_over_round_bound: the site's bound changed during the round and this part is over the bound the round's noise is for; not_collected: the site does not collect this part at its scale now (protocol/report-parts.ts). */
export type PartOutcome = 'counted' | 'ignored_other_model' | 'ignored_over_round_bound' | 'not_collected' | 'none';

export interface AddOutcome {
  duplicate: boolean;
  closed: boolean;
  /** The report's token was already spent by another report: nothing was added. */
  tokenSpent?: boolean;
  head: PartOutcome;
  ope: PartOutcome;
  towers: PartOutcome;
  offsets: PartOutcome;
}
