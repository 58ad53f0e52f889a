/** Report ingestion into the open round, against wrangler dev, with autocannon. */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import type { SiteConfig } from '../protocol/wire.ts';
import { obtainReportToken } from '../widget/engine/report-token-client.ts';
import { ADMIN_TOKEN, EDGE_PORT, round, SHARDED_SITES, SHOP_PORT } from './bench-common.ts';
import type { Figures } from './bench-common.ts';

/**
 * Report ingestion against wrangler dev with autocannon: valid reports (a fresh report id each,
 * so every one is counted, from varied client addresses, as devices are) into the open round,
 * with the round held by 1, 4 and 16 aggregators (the demo site, and two sites made here with
 * roundShards 4 and 16); then GET /v1/health of the same worker in the same run as the no-op
 * baseline.
 */
const INGEST_REPORTS = 3000;

export async function ingestBench(results: Figures): Promise<void> {
  const edge = `http://127.0.0.1:${EDGE_PORT}`;
  const shop = `http://127.0.0.1:${SHOP_PORT}`;
  const one = await ingestInto(edge, shop, 'demo', 0);
  results.token_issue_ms_mean = one.tokenMs;
  results.ingest_rps = one.rps;
  results.ingest_p99_ms = one.p99;
  // Every report the edge accepted went into the round's one Durable Object, which counted it once.
  results.round_do_reports_per_s = one.acceptedPerS;
  for (const [site, shards] of SHARDED_SITES) {
    const put = await fetch(`${edge}/v1/admin/sites/${site}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: site, allowedOrigins: [shop], roundSeconds: 3600, tokensPerAddress: 100_000, roundShards: shards }),
    });
    if (!put.ok) throw new Error(`ingestion: site ${site}: ${put.status} ${await put.text()}`);
    const figures = await ingestInto(edge, shop, site, shards * 1000);
    results[`ingest_rps_${shards}_shards`] = figures.rps;
    results[`ingest_p99_ms_${shards}_shards`] = figures.p99;
  }
  const noop = await autocannon({ url: `${edge}/v1/health`, connections: 10, duration: 10 });
  results.noop_rps = noop.requests.average;
  results.noop_p99_ms = noop.latency.p99;
  results.ingest_noop_ratio = round((results.ingest_rps as number) / noop.requests.average);
}

/** INGEST_REPORTS reports into `site`'s open round, each with its own token (client addresses from `addressBase` on). */
async function ingestInto(
  edge: string,
  shop: string,
  site: string,
  addressBase: number,
): Promise<{ rps: number; p99: number; acceptedPerS: number; tokenMs: number }> {
  const config = (await (await fetch(`${edge}/v1/sites/${site}/config`)).json()) as SiteConfig;
  const creativeId = config.candidates[0]?.id ?? 'c-bench';
  const connections = 10;
  // Every report carries its own token, obtained beforehand as devices obtain theirs (blind
  // issuance, one per address): the ingestion measured includes checking each token's signature
  // and spending it in the round's object.
  const address = (i: number) => `10.${1 + ((addressBase + i) >> 16)}.${((addressBase + i) >> 8) & 255}.${(addressBase + i) & 255}`;
  const tokens: string[] = [];
  const minted = performance.now();
  for (let i = 0; i < INGEST_REPORTS; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, INGEST_REPORTS - i) }, async (_, k) => {
        const got = await obtainReportToken(edge, site, config.round.id, (input, init) =>
          fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'cf-connecting-ip': address(i + k) } }),
        );
        if ('refused' in got) throw new Error(`ingestion: no token: ${got.refused}`);
        return got.token;
      }),
    );
    tokens.push(...batch);
  }
  const tokenMs = round((performance.now() - minted) / INGEST_REPORTS);
  let n = 0;
  const started = performance.now();
  const ingest = await autocannon({
    url: `${edge}/v1/sites/${site}/reports`,
    connections,
    amount: tokens.length,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const i = n++;
          return {
            ...req,
            headers: { 'content-type': 'text/plain;charset=UTF-8', origin: shop, 'cf-connecting-ip': address(i) },
            body: JSON.stringify({
              v: 1,
              reportId: randomUUID(),
              round: config.round.id,
              modelVersion: null,
              outcomes: [{ creativeId, impressions: 1, clicks: 0 }],
              token: tokens[i],
            }),
          };
        },
      },
    ],
  });
  const duration = (performance.now() - started) / 1000;
  if (ingest.non2xx > 0 || ingest.errors > 0)
    throw new Error(`ingestion (${site}): ${ingest.non2xx} non-2xx answers and ${ingest.errors} errors of ${ingest.requests.total}`);
  // The admin is never told how many reported in a round (counts leave it only noised): what was accepted is what the edge answered 202.
  return { rps: ingest.requests.average, p99: ingest.latency.p99, acceptedPerS: round(ingest['2xx'] / duration), tokenMs };
}
