/**
 * The decision log (the `decisions` store): each decision with its propensity, the head features
 * the round report's statistics and gradient are made from (never handed to the page), the text
 * variant chosen, and later each candidate model's probability of the same choice.
 */
import type { HeadDraws } from './slot-scoring.ts';
import { cellOf } from '../../protocol/offsets.ts';
import type { Decision, OutcomeKind } from './engine-api.ts';
import type { Composition } from './composition.ts';
import type { DecisionRecord, DeviceDB } from './device-store.ts';

/** A decision's situation, kept until the candidate models have scored it (recordCandidateProbabilities). */
export interface CandidateJob {
  id: string;
  slot: string;
  eligible: number[];
  index: number;
  /** The serving model's head in this situation (features and draws), for candidate models that share it. */
  head: HeadDraws | null;
}

/** What a decision logs for the round report's statistics and gradient (never handed to the page). */
export interface LoggedFeatures {
  phi: number[];
  shopperRow: number[];
  creativeRow: number[];
  crossRow: number[];
  eligibleCount: number;
  /** The model's predicted click probability of the chosen creative (protocol/offsets.ts expectedClick). */
  expected: number;
}

/** What a decision is logged as before any outcome: nothing seen, clicked or reported yet. */
export function freshDecisionRecord(made: Omit<DecisionRecord, 'impression' | 'click' | 'reported'>): DecisionRecord {
  return { ...made, impression: false, click: false, reported: { impression: false, click: false } };
}

/** Logs the page's decisions in one transaction (created at once: a later outcome's transaction on the store runs after it). */
export async function logDecisions(
  db: DeviceDB,
  decisions: Decision[],
  features: Map<string, LoggedFeatures>,
  variants: Map<string, Composition>,
  round: number,
  now: number,
): Promise<void> {
  if (decisions.length === 0) return;
  const tx = db.transaction('decisions', 'readwrite');
  for (const d of decisions) {
    const logged = features.get(d.id);
    const record = freshDecisionRecord({
      id: d.id,
      at: now,
      round,
      slot: d.slot,
      creativeId: d.candidate.id,
      cell: cellOf(d.candidate),
      propensity: d.propensity,
      modelVersion: d.modelVersion,
      phi: logged?.phi ?? null,
      expected: logged?.expected,
      shopperRow: logged?.shopperRow,
      creativeRow: logged?.creativeRow,
      crossRow: logged?.crossRow,
      eligibleCount: logged?.eligibleCount,
      variant: variants.get(d.id)?.variant,
      variantPropensity: variants.get(d.id)?.propensity,
    });
    void tx.store.put(record);
  }
  await tx.done;
}

/** Records each candidate model's probability of the creative each decision chose (after the decision: a scoring pass per candidate). */
export async function recordCandidateProbabilities(db: DeviceDB, annotated: Map<string, Record<string, number>>): Promise<void> {
  const tx = db.transaction('decisions', 'readwrite');
  for (const [id, candidatePi] of annotated) {
    const d = await tx.store.get(id);
    if (d) await tx.store.put({ ...d, candidatePi });
  }
  await tx.done;
}

/**
 * Marks a decision's outcome once (a dismissal also keeps its creative from this device); returns
 * the decision as it was before, or null when it is unknown or had this outcome already.
 */
export async function markOutcome(db: DeviceDB, decisionId: string, kind: OutcomeKind, now: number): Promise<DecisionRecord | null> {
  const tx = db.transaction(['decisions', 'dismissed'], 'readwrite');
  const decisions = tx.objectStore('decisions');
  const found = await decisions.get(decisionId);
  const fresh = found && !found[kind] ? found : null;
  if (fresh) {
    await decisions.put({ ...fresh, [kind]: true, ...(kind === 'click' ? { clickedAt: now } : {}) });
    if (kind === 'dismissal') await tx.objectStore('dismissed').put({ creativeId: fresh.creativeId, at: now });
  }
  await tx.done;
  return fresh;
}
