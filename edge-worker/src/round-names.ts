/**
 * The Durable Object name of one shard of a site's round. Shard 0, the round's coordinator, keeps
 * the name a round had before rounds had shards. Its own module so the round object can reach its
 * sibling shards without importing the routes' helpers (rounds.ts), which import it.
 */
export function roundObjectName(site: string, round: number, shard = 0): string {
  return shard === 0 ? `${site}/${round}` : `${site}/${round}/${shard}`;
}
