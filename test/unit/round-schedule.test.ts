/** When a site's rounds begin and end (edge-worker/src/round-schedule.ts): pure functions of the stored schedule. */
import { describe, expect, it } from 'vitest';
import { firstSegment, roundAt, roundWindow, withRoundClosedAt, withRoundLength } from '../../edge-worker/src/round-schedule.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 4, 9, 30); // a site created at 09:30 UTC

describe('the round schedule', () => {
  it("a new site's first round starts when it is created, and rounds follow at its length", () => {
    const schedule = [firstSegment(T0, 3600)];
    const first = roundAt(schedule, T0);
    expect(first).toEqual({ id: schedule[0]!.fromRound, start: T0, deadline: T0 + HOUR });
    expect(roundAt(schedule, T0 + HOUR - 1).id).toBe(first.id);
    expect(roundAt(schedule, T0 + HOUR)).toEqual({ id: first.id + 1, start: T0 + HOUR, deadline: T0 + 2 * HOUR });
    // No round before the first: nothing could be reported in it.
    expect(roundWindow(schedule, first.id - 1)).toBeNull();
  });

  it('a migrated site keeps its old numbering: round r began at r x roundSeconds since the epoch', () => {
    const schedule = [{ fromRound: 0, startsAt: 0, roundSeconds: 86_400 }];
    const now = Date.UTC(2026, 11, 4, 12);
    expect(roundAt(schedule, now).id).toBe(Math.floor(now / 86_400_000));
    expect(roundWindow(schedule, 20_000)).toEqual({ id: 20_000, start: 20_000 * 86_400_000, deadline: 20_001 * 86_400_000 });
  });

  it('a change of round length takes effect at the next round: the open one keeps its id, start and deadline', () => {
    const schedule = [firstSegment(T0, 3600)];
    const now = T0 + 2.5 * HOUR; // in the third round
    const open = roundAt(schedule, now);
    const changed = withRoundLength(schedule, now, 86_400);
    expect(roundAt(changed, now)).toEqual(open);
    expect(roundWindow(changed, open.id + 1)).toEqual({ id: open.id + 1, start: open.deadline, deadline: open.deadline + 24 * HOUR });
    // Every earlier round keeps its window: a spend never moves out of the time it was made in.
    for (let id = schedule[0]!.fromRound; id <= open.id; id++) expect(roundWindow(changed, id)).toEqual(roundWindow(schedule, id));
    // A second change before the next round begins replaces the pending one; changing back removes it.
    const again = withRoundLength(changed, now + 60_000, 7200);
    expect(again).toHaveLength(2);
    expect(roundWindow(again, open.id + 1)!.deadline).toBe(open.deadline + 2 * HOUR);
    expect(withRoundLength(changed, now + 60_000, 3600)).toEqual(schedule);
  });

  it('closing the open round early (test controls) ends it now and starts the next at once, with the pending length', () => {
    const schedule = withRoundLength([firstSegment(T0, 3600)], T0 + 10 * 60_000, 7200);
    const at = T0 + 20 * 60_000;
    const { schedule: next, closed, open } = withRoundClosedAt(schedule, at);
    expect(closed).toEqual({ id: schedule[0]!.fromRound, start: T0, deadline: at });
    expect(roundWindow(next, closed.id)).toEqual(closed);
    expect(open).toEqual({ id: closed.id + 1, start: at, deadline: at + 2 * HOUR });
    expect(roundAt(next, at)).toEqual(open);
  });
});
