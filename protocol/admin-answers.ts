/**
 * What the edge answers to the trainer and the dashboard, declared once: the edge builds its
 * answer to this type and both clients parse it with the same schema, so the two ends cannot
 * drift (the trainer's hand-written copy of the released round already had): the privacy ledger,
 * a round's status and its noised release, the dashboard's list of recent rounds, the site's
 * settings, its models, its catalog, and what the writes answer.
 */
import * as v from 'valibot';
import { CreativeSchema, ProductSchema, TemplateSchema } from './wire.ts';
import { SiteSettingsSchema } from './site-settings.ts';
import { MODEL_PARTS } from './report-parts.ts';

export const LedgerRoundSchema = v.object({
  round: v.number(),
  /** When the round began (ms since the epoch): the time it is charged at. */
  start: v.number(),
  mechanisms: v.number(),
  noiseMultiplier: v.number(),
  contributors: v.number(),
  releasedAt: v.string(),
});

/** GET /v1/admin/sites/{site}/privacy: the budget over time (edge-worker/src/privacy-ledger.ts). */
export const LedgerSchema = v.object({
  site: v.string(),
  delta: v.number(),
  /** The budget of any window of `periodDays`. */
  budget: v.number(),
  periodDays: v.number(),
  /** The last `periodDays`, up to now (ISO 8601): what `epsilon` counts. */
  window: v.object({ from: v.string(), to: v.string() }),
  /** Spent by the rounds that began in that window. */
  epsilon: v.number(),
  /** When the earliest spend of the window leaves it (null: nothing spent). */
  freesAt: v.nullable(v.string()),
  /** What every charged round together costs a device present in all of them. */
  epsilonAllTime: v.number(),
  /** The noise every round gets, and what the budget allows from now at one released round a round. */
  pacing: v.object({
    noiseMultiplier: v.number(),
    paced: v.boolean(),
    roundsPerPeriod: v.number(),
    epsilonPerRound: v.number(),
    roundsLeft: v.number(),
    /** The start of the first coming round the budget would not hold (null: none within the next period). */
    runsOutAt: v.nullable(v.string()),
  }),
  rounds: v.array(LedgerRoundSchema),
});
export type Ledger = v.InferOutput<typeof LedgerSchema>;

/** A creative's released counts (protocol/outcome-counts.ts); `value` in units of the release's valueUnit (absent in releases from before revenue). */
const TotalsSchema = v.object({
  creativeId: v.string(),
  impressions: v.number(),
  clicks: v.number(),
  conversions: v.number(),
  dismissals: v.number(),
  value: v.optional(v.number(), 0),
});

/** A round's noised sums, as its Durable Object released them (once; the same on every read). */
export const NoisedReleaseSchema = v.object({
  /** Devices that reported, noised (the count vector: protocol/privacy.ts COUNT_MECHANISMS); no exact count leaves the edge. */
  contributors: v.number(),
  /** Every creative of the site, zeros included (noised, so possibly fractional or negative). */
  totals: v.array(TotalsSchema),
  /** The last layer's statistics of `modelVersion`, packed as in ReportSchema, noised; null when no report carried any. */
  head: v.nullable(v.object({ modelVersion: v.string(), reports: v.number(), stats: v.array(v.number()) })),
  /** Off-policy sums of decisions the logging model `modelVersion` made, per evaluated model, noised. */
  ope: v.nullable(
    v.object({ modelVersion: v.string(), reports: v.number(), models: v.array(v.object({ modelVersion: v.string(), sums: v.array(v.number()) })) }),
  ),
  /** The summed tower gradient at `modelVersion`'s weights, noised. */
  towers: v.nullable(v.object({ modelVersion: v.string(), reports: v.number(), sums: v.array(v.number()) })),
  /**
   * Offsets (protocol/offsets.ts): clicks and the clicks `modelVersion`'s head expected, per key
   * (`cell:<layout>/<messageType>`, `creative:<id>`: every one of the site's), noised; absent in
   * releases from before offsets, null when the site does not collect them.
   */
  offsets: v.optional(
    v.nullable(v.object({ modelVersion: v.string(), entries: v.array(v.object({ key: v.string(), clicks: v.number(), expected: v.number() })) })),
  ),
  /** Standard deviations of the noise each part got; `reportsStd`: of the contributors and each part's `reports` (absent in releases made before they were noised). */
  noise: v.object({
    multiplier: v.number(),
    countStd: v.number(),
    headStd: v.number(),
    opeStd: v.number(),
    towerStd: v.number(),
    offsetStd: v.optional(v.number()),
    reportsStd: v.optional(v.number()),
  }),
  /** Gaussian mechanisms the release is made of (what the ledger composes). */
  mechanisms: v.number(),
  /** The site's currency per unit of the totals' `value` in this round (absent in releases from before revenue: no value was counted). */
  valueUnit: v.optional(v.number()),
});
export type NoisedRelease = v.InferOutput<typeof NoisedReleaseSchema>;

/**
 * Where a round stands; `release` once released. Reading it never releases anything. A closed
 * round is counted when it is first released (POST .../release): its noised contributor count
 * is drawn and charged then, and the cohort check made on it; before that no count is known
 * (`closed`). `contributors` is that noised count.
 */
export const RoundStatusSchema = v.object({
  round: v.number(),
  status: v.picklist(['open', 'closed', 'below_cohort', 'releasable', 'released']),
  contributors: v.optional(v.number()),
  minCohort: v.number(),
  /** When the round began and closes (closed), ms since the epoch. */
  start: v.optional(v.nullable(v.number())),
  deadline: v.number(),
  /** A releasable round: the noise its release will get, and how many mechanisms it will charge. */
  noiseMultiplier: v.optional(v.number()),
  mechanisms: v.optional(v.number()),
  release: v.optional(NoisedReleaseSchema),
});
export type RoundStatusAnswer = v.InferOutput<typeof RoundStatusSchema>;

/** GET /v1/admin/sites/{site}/rounds/{round} and POST .../rounds/{round}/release */
export const RoundAnswerSchema = v.object({ site: v.string(), ...RoundStatusSchema.entries });
export type RoundAnswer = v.InferOutput<typeof RoundAnswerSchema>;

/** GET /v1/admin/sites/{site}/rounds?last=N: the recent rounds that were counted (released, releasable or below the cohort). */
export const RoundsAnswerSchema = v.object({ site: v.string(), current: v.number(), minCohort: v.number(), rounds: v.array(RoundStatusSchema) });
export type RoundsAnswer = v.InferOutput<typeof RoundsAnswerSchema>;

/**
 * A run of a site's rounds of one length (edge-worker/src/round-schedule.ts): round `fromRound`
 * starts at `startsAt` (ms since the epoch), each next one `roundSeconds` later, until the next
 * segment's first round.
 */
export const RoundSegmentSchema = v.object({ fromRound: v.number(), startsAt: v.number(), roundSeconds: v.number() });
export type RoundSegment = v.InferOutput<typeof RoundSegmentSchema>;

/**
 * GET /v1/admin/sites/{site} and what PUT answers: the site's settings as stored, defaults filled
 * in, and its round schedule (`roundSeconds` is the length of the rounds from the next one on;
 * the schedule says when each round begins).
 */
export const SiteAnswerSchema = v.object({
  id: v.string(),
  ...SiteSettingsSchema.entries,
  roundSchedule: v.array(RoundSegmentSchema),
  /**
   * The noised contributor count of the site's last released round (null before any), whether the
   * site is at the head's scale after it (atHeadScale), and the parts its rounds collect now
   * (protocol/report-parts.ts).
   */
  lastContributors: v.nullable(v.number()),
  atHeadScale: v.boolean(),
  parts: v.array(v.picklist(MODEL_PARTS)),
  /** The noise every round gets (the merchant's, or paced when none was set) and what it buys (protocol/budget-pacing.ts). */
  pacing: v.object({
    noiseMultiplier: v.number(),
    paced: v.boolean(),
    roundsPerPeriod: v.number(),
    epsilonPerRound: v.number(),
    roundsPerBudget: v.number(),
  }),
});
export type SiteAnswer = v.InferOutput<typeof SiteAnswerSchema>;

/** GET /v1/admin/sites/{site}/models: every model of the site, newest first. */
export const ModelsAnswerSchema = v.object({
  models: v.array(
    v.object({
      version: v.string(),
      site: v.string(),
      specHash: v.string(),
      status: v.picklist(['candidate', 'serving', 'retired']),
      createdAt: v.string(),
      promotedAt: v.nullable(v.string()),
      /** What the model was trained on, as its trainer wrote it. */
      trainedOn: v.string(),
    }),
  ),
});
export type ModelsAnswer = v.InferOutput<typeof ModelsAnswerSchema>;

/** POST /v1/admin/sites/{site}/models: the uploaded model's content version; `created` false when it was there already. */
export const ModelUploadAnswerSchema = v.object({ version: v.string(), status: v.literal('candidate'), created: v.boolean() });
export type ModelUploadAnswer = v.InferOutput<typeof ModelUploadAnswerSchema>;

/** POST .../models/{version}/promote and POST .../models/rollback: the model serving now. */
export const ServingAnswerSchema = v.object({ version: v.string(), status: v.literal('serving') });
export type ServingAnswer = v.InferOutput<typeof ServingAnswerSchema>;

/** POST .../models/{version}/retire: the candidate is no longer evaluated by devices. */
export const RetiredAnswerSchema = v.object({ version: v.string(), status: v.literal('retired') });
export type RetiredAnswer = v.InferOutput<typeof RetiredAnswerSchema>;

/** GET /v1/admin/sites/{site}/catalog: products and creatives as uploaded, and the templates. */
export const CatalogAnswerSchema = v.object({ products: v.array(ProductSchema), creatives: v.array(CreativeSchema), templates: v.array(TemplateSchema) });
export type CatalogAnswer = v.InferOutput<typeof CatalogAnswerSchema>;

/** PUT .../products, .../templates, .../creatives: how many were written. */
export const UpsertAnswerSchema = v.object({ upserted: v.number() });
export type UpsertAnswer = v.InferOutput<typeof UpsertAnswerSchema>;

/** A creative, template or product deleted. */
export const DeletedAnswerSchema = v.object({ deleted: v.string() });
export type DeletedAnswer = v.InferOutput<typeof DeletedAnswerSchema>;
