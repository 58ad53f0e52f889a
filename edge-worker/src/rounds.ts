/**
 * Rounds: fixed, aligned windows of `roundSeconds`. A round's id is its index since the Unix
 * epoch, so every device and the edge agree on it from the clock alone, and a report carries
 * no time finer than the round.
 */
import type { RoundAggregator } from './round-aggregator.ts';

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

/** The Durable Object name of one site's round. */
export function roundObjectName(site: string, round: number): string {
  return `${site}/${round}`;
}

/** The Durable Object that holds one site's round. */
export function roundAggregator(rounds: DurableObjectNamespace<RoundAggregator>, site: string, round: number): DurableObjectStub<RoundAggregator> {
  return rounds.get(rounds.idFromName(roundObjectName(site, round)));
}
