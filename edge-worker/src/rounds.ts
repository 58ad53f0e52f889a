/**
 * A site's rounds as Durable Objects: the terms a round is held under, the objects of its
 * shards, and which shard a key belongs to. When rounds begin and end is round-schedule.ts.
 */
import { fnv1a32 } from '../../protocol/hash.ts';
import type { RoundAggregator } from './round-aggregator.ts';
import type { RoundTerms } from './round-contract.ts';
import { roundObjectName } from './round-names.ts';
import { roundAt, roundWindow } from './round-schedule.ts';
import type { RoundWindow } from './round-schedule.ts';
import { sitePrivacy } from './site-store.ts';
import type { SiteRow } from './site-store.ts';
import { HttpError } from './http-error.ts';

/** The site's round open now. */
export function openRound(site: Pick<SiteRow, 'roundSchedule'>, now = Date.now()): RoundWindow {
  return roundAt(site.roundSchedule, now);
}

/** Round `round`'s window; 404 for a round before the site's first (nothing was ever collected in it). */
export function existingRound(site: Pick<SiteRow, 'id' | 'roundSchedule'>, round: number): RoundWindow {
  const window = roundWindow(site.roundSchedule, round);
  if (!window) throw new HttpError(404, 'unknown_round', `round ${round} is before site ${site.id}'s first round (${site.roundSchedule[0]?.fromRound})`);
  return window;
}

/**
 * The terms a site's settings give its round now: its window from the schedule, the site's K
 * and privacy. What the round's coordinator fixes at the round's first request, and what a
 * round no request ever reached is read under.
 */
export function roundTerms(site: SiteRow, round: number): RoundTerms {
  const { start, deadline } = existingRound(site, round);
  return { start, deadline, minCohort: site.minCohort, privacy: sitePrivacy(site) };
}

/** The coordinator of one site's round (its shard 0): the round's plan, token key, count and release. */
export function roundAggregator(rounds: DurableObjectNamespace<RoundAggregator>, site: string, round: number): DurableObjectStub<RoundAggregator> {
  return roundShard(rounds, site, round, 0);
}

export function roundShard(rounds: DurableObjectNamespace<RoundAggregator>, site: string, round: number, shard: number): DurableObjectStub<RoundAggregator> {
  return rounds.get(rounds.idFromName(roundObjectName(site, round, shard)));
}

/**
 * The shard a key belongs to among `shards`: a report goes to its token's (so a token is spent,
 * and a retried report found, in one place), a token request to its client key's (so an
 * address's limit is counted in one place). FNV-1a: fixed, fast, the same in every isolate.
 */
export function shardOf(key: string, shards: number): number {
  return shards <= 1 ? 0 : fnv1a32(key) % shards;
}
