/**
 * This device's place in the site's holdout (protocol/holdout.ts): one uniform draw, kept in the
 * device's store for HOLDOUT_DAYS so a shopper stays in (or out of) the holdout across visits,
 * compared with the site's `holdoutShare` at every decision. Drawn only when the site holds any
 * device out, with the engine's own randomness (the simulator's is seeded). A held-out device's
 * slots keep their own content; their decisions are logged under HOLDOUT_CREATIVE, without model
 * features, so they count in the report's outcomes and in nothing a model learns from.
 */
import { freshDecisionRecord } from './decision-log.ts';
import { HOLDOUT_CREATIVE, HOLDOUT_DAYS, heldOut } from '../../protocol/holdout.ts';
import type { Uniform } from '../../protocol/policy.ts';
import type { AssignmentEntry, DeviceDB } from './device-store.ts';
import type { HoldoutDecision } from './engine-api.ts';

const DAY_MS = 86_400_000;

/** The stored draw, or null when there is none or it has run its HOLDOUT_DAYS. */
export async function readHoldoutDraw(db: DeviceDB, now: number): Promise<AssignmentEntry | null> {
  const stored = await db.get('assignments', 'holdout');
  return stored && now - stored.at < HOLDOUT_DAYS * DAY_MS && stored.at <= now ? stored : null;
}

export class HoldoutAssignment {
  constructor(
    private entry: AssignmentEntry | null,
    private readonly random: Uniform,
    private readonly db: DeviceDB | null,
  ) {}

  /** Whether this device keeps the slots' own content at the site's share now. */
  heldOut(share: number, now: number): boolean {
    if (share <= 0) return false;
    if (!this.entry || now - this.entry.at >= HOLDOUT_DAYS * DAY_MS) {
      this.entry = { name: 'holdout', draw: this.random(), at: now };
      this.db?.put('assignments', this.entry).catch((e: unknown) => console.warn('[vitrine] the holdout draw was not kept:', e));
    }
    return heldOut(this.entry.draw, share);
  }
}

/** The slots' own content kept, each slot's decision logged (one transaction) under HOLDOUT_CREATIVE. */
export function holdoutDecisions(db: DeviceDB, slots: string[], round: number, now: number): HoldoutDecision[] {
  const decisions = slots.map((slot) => ({ id: crypto.randomUUID(), slot, holdout: true as const }));
  if (decisions.length === 0) return decisions;
  const tx = db.transaction('decisions', 'readwrite');
  for (const d of decisions) {
    const record = freshDecisionRecord({
      id: d.id,
      at: now,
      round,
      slot: d.slot,
      creativeId: HOLDOUT_CREATIVE,
      // Not chosen by any policy: the device's draw decided, and no estimator weighs these.
      propensity: 1,
      modelVersion: null,
      phi: null,
    });
    void tx.store.put(record);
  }
  tx.done.catch((e: unknown) => console.warn('[vitrine] a decision was not logged:', e));
  return decisions;
}
