/**
 * When a site's rounds begin and end: its schedule, a list of segments, each a run of rounds of
 * one length from a start time. A round's id is its index in the site's sequence, so a report
 * carries no time finer than the round, and every device and the edge agree on it from the
 * config and the clock.
 *
 * Why a stored schedule and not `floor(now / roundSeconds)`: with ids derived from the setting,
 * a change of round length renumbered every round (the open one included, and a closed round
 * was then mapped to the wrong budget period), and a new site inherited thousands of rounds from
 * before it existed. Here a change of length takes effect at the next round (a new segment that
 * starts at the open round's deadline), a new site's first round starts when it is created, and
 * a round's start and deadline never move once it has begun.
 */
import type { RoundSegment } from '../../protocol/admin-answers.ts';

export type { RoundSegment };

/** A round's window in ms since the epoch: it takes reports in [start, deadline). */
export interface RoundWindow {
  id: number;
  start: number;
  deadline: number;
}

function lengthMs(segment: RoundSegment): number {
  return segment.roundSeconds * 1000;
}

/** The segment that holds round `id`: the last one starting at or before it (segments ascend by fromRound). */
function segmentOf(schedule: readonly RoundSegment[], id: number): { segment: RoundSegment; next: RoundSegment | undefined } | null {
  let at = -1;
  for (let i = 0; i < schedule.length; i++) if (schedule[i]!.fromRound <= id) at = i;
  return at < 0 ? null : { segment: schedule[at]!, next: schedule[at + 1] };
}

/** Round `id`'s window, or null for a round before the site's first. */
export function roundWindow(schedule: readonly RoundSegment[], id: number): RoundWindow | null {
  const found = segmentOf(schedule, id);
  if (!found) return null;
  const { segment, next } = found;
  const start = segment.startsAt + (id - segment.fromRound) * lengthMs(segment);
  // The last round of a segment ends where the next segment starts (a round closed early by a
  // test's explicit call ends then; one whose length changed ends at its own deadline, which is
  // where the next segment was made to start).
  const deadline = next && next.fromRound === id + 1 ? Math.min(start + lengthMs(segment), next.startsAt) : start + lengthMs(segment);
  return { id, start, deadline };
}

/** The round open at `now` (the first one when `now` is before the site's first round began). */
export function roundAt(schedule: readonly RoundSegment[], now: number): RoundWindow {
  let segment = schedule[0];
  if (!segment) throw new Error('a site has at least one schedule segment');
  for (const s of schedule) if (s.startsAt <= now) segment = s;
  const index = Math.max(0, Math.floor((now - segment.startsAt) / lengthMs(segment)));
  return roundWindow(schedule, segment.fromRound + index)!;
}

/** The first round of a site created at `now`: it starts then (ids continue the epoch count of its length, so they read like the old ones). */
export function firstSegment(now: number, roundSeconds: number): RoundSegment {
  return { fromRound: Math.floor(now / (roundSeconds * 1000)), startsAt: now, roundSeconds };
}

/**
 * The schedule after a change of round length at `now`: the open round keeps its length and
 * deadline; the new length starts with the next round. A pending change not yet begun is replaced.
 */
export function withRoundLength(schedule: readonly RoundSegment[], now: number, roundSeconds: number): RoundSegment[] {
  const open = roundAt(schedule, now);
  const kept = schedule.filter((s) => s.fromRound <= open.id);
  const last = kept[kept.length - 1]!;
  if (last.roundSeconds === roundSeconds) return kept;
  return [...kept, { fromRound: open.id + 1, startsAt: open.deadline, roundSeconds }];
}

/**
 * The schedule with the open round ended at `now` and the next one begun (test controls only:
 * test-controls.ts). The next round has the length a pending change gave it, else the open one's.
 */
export function withRoundClosedAt(schedule: readonly RoundSegment[], now: number): { schedule: RoundSegment[]; closed: RoundWindow; open: RoundWindow } {
  const open = roundAt(schedule, now);
  const pending = schedule.find((s) => s.fromRound === open.id + 1);
  const kept = schedule.filter((s) => s.fromRound <= open.id);
  const roundSeconds = (pending ?? kept[kept.length - 1]!).roundSeconds;
  const next = [...kept, { fromRound: open.id + 1, startsAt: now, roundSeconds }];
  return { schedule: next, closed: { ...open, deadline: now }, open: roundWindow(next, open.id + 1)! };
}
