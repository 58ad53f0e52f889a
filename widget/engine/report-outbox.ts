/**
 * Turning logged outcomes into reports, exactly once.
 *
 * One readwrite transaction over decisions and outbox takes every outcome not yet reported,
 * marks it reported and writes the report into the outbox, so an outcome is in exactly one
 * report even with several tabs. The report keeps its random id until the edge acknowledges it;
 * retries reuse the id and the round's Durable Object counts it once.
 */
import type { Report } from '../../protocol/wire.ts';
import type { DeviceDB, OutboxEntry } from './device-store.ts';

const MAX_OUTCOMES_PER_REPORT = 200;

export async function moveOutcomesToOutbox(db: DeviceDB, round: number, modelVersion: string | null, now: number): Promise<OutboxEntry | null> {
  const tx = db.transaction(['decisions', 'outbox'], 'readwrite');
  const decisions = tx.objectStore('decisions');
  const counts = new Map<string, { impressions: number; clicks: number }>();
  let cursor = await decisions.openCursor();
  while (cursor) {
    const d = cursor.value;
    const newImpression = d.impression && !d.reported.impression;
    const newClick = d.click && !d.reported.click;
    if ((newImpression || newClick) && (counts.has(d.creativeId) || counts.size < MAX_OUTCOMES_PER_REPORT)) {
      const c = counts.get(d.creativeId) ?? { impressions: 0, clicks: 0 };
      if (newImpression) c.impressions += 1;
      if (newClick) c.clicks += 1;
      counts.set(d.creativeId, c);
      await cursor.update({ ...d, reported: { impression: d.impression, click: d.click } });
    }
    cursor = await cursor.continue();
  }
  if (counts.size === 0) {
    await tx.done;
    return null;
  }
  const report: Report = {
    v: 1,
    reportId: crypto.randomUUID(),
    round,
    modelVersion,
    outcomes: [...counts].map(([creativeId, c]) => ({ creativeId, impressions: Math.min(c.impressions, 1000), clicks: Math.min(c.clicks, 1000) })),
  };
  const entry: OutboxEntry = { reportId: report.reportId, report, createdAt: now, attempts: 0 };
  await tx.objectStore('outbox').put(entry);
  await tx.done;
  return entry;
}

/**
 * What to do with an outbox entry after the edge answered. 2xx: acknowledged (a duplicate is
 * an acknowledgement too). 409 round_closed: re-target to the open round, same id. Other 4xx:
 * the edge will never take it; drop it rather than retry forever. 5xx / network: keep, retry.
 */
export function outboxAction(status: number, body: string): { kind: 'delete' } | { kind: 'retarget'; round: number } | { kind: 'keep' } {
  if (status >= 200 && status < 300) return { kind: 'delete' };
  if (status === 409) {
    try {
      const openRound = (JSON.parse(body) as { openRound?: unknown }).openRound;
      if (typeof openRound === 'number') return { kind: 'retarget', round: openRound };
    } catch {
      // fall through to keep: an unreadable 409 is retried later
    }
    return { kind: 'keep' };
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'delete' };
  return { kind: 'keep' };
}
