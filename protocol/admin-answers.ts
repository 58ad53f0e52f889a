/**
 * What the edge answers to the trainer and the dashboard, declared once: the edge builds its
 * answer to this type and both clients parse it with the same schema, so the two ends cannot
 * drift (the trainer's hand-written copy of the released round already had). So far: the privacy
 * ledger; the released round, round status and the other admin answers are to follow (PRIVACY.md
 * and issue notes say what is left).
 */
import * as v from 'valibot';

export const LedgerRoundSchema = v.object({
  round: v.number(),
  /** The budget period the round belongs to. */
  period: v.number(),
  mechanisms: v.number(),
  noiseMultiplier: v.number(),
  contributors: v.number(),
  releasedAt: v.string(),
});

/** GET /v1/admin/sites/{site}/privacy */
export const LedgerSchema = v.object({
  site: v.string(),
  delta: v.number(),
  /** The budget of each period. */
  budget: v.number(),
  periodDays: v.number(),
  /** The period now: its index, its start and when the next begins (the budget renews then). */
  period: v.object({ index: v.number(), start: v.string(), renewsAt: v.string() }),
  /** Spent in the period now. */
  epsilon: v.number(),
  /** What every period together costs a device present in all of them. */
  epsilonAllPeriods: v.number(),
  rounds: v.array(LedgerRoundSchema),
});
export type Ledger = v.InferOutput<typeof LedgerSchema>;
