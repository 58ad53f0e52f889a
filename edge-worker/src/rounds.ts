/**
 * Rounds: fixed, aligned windows of `roundSeconds`. A round's id is its index since the Unix
 * epoch, so every device and the edge agree on it from the clock alone, and a report carries
 * no time finer than the round. A round is held by `shards` Durable Objects (round-aggregator.ts).
 */
import { fnv1a32 } from '../../protocol/hash.ts';
import type { RoundAggregator, RoundTerms } from './round-aggregator.ts';
import { sitePrivacy } from './site-store.ts';
import type { SiteRow } from './site-store.ts';

export interface RoundInfo {
  id: number;
  /** When the round closes (ISO 8601). */
  deadline: string;
}

export function currentRound(now: number, roundSeconds: number): RoundInfo {
  const length = roundSeconds * 1000;
  const id = Math.floor(now / length);
  return { id, deadline: new Date((id + 1) * length).toISOString() };
}

/**
 * The terms a site's settings give its round now: its deadline from the clock, the site's K and
 * privacy. What the round's coordinator fixes at the round's first request, and what a round no
 * request ever reached is read under.
 */
export function roundTerms(site: SiteRow, round: number): RoundTerms {
  return { deadline: (round + 1) * site.roundSeconds * 1000, minCohort: site.minCohort, privacy: sitePrivacy(site) };
}

/**
 * The Durable Object name of one shard of a site's round. Shard 0, the round's coordinator, keeps
 * the name a round had before rounds had shards.
 */
export function roundObjectName(site: string, round: number, shard = 0): string {
  return shard === 0 ? `${site}/${round}` : `${site}/${round}/${shard}`;
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
