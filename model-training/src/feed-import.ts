/**
 * `vitrine-train import-feed FILE`: a Google Merchant Center feed (XML or TSV) into the site's
 * catalog. Every row the feed gives is either uploaded or listed with its line, attribute and
 * reason (protocol/merchant-feed.ts reads it as the dashboard does); products already in the
 * catalog keep the popularity they have (a feed has none); the upload goes 1,000 a call.
 */
import { parseMerchantFeed } from '../../protocol/merchant-feed.ts';
import type { FeedImport } from '../../protocol/merchant-feed.ts';
import type { EdgeAdminClient } from './edge-admin-client.ts';

/** Products per admin call (the edge's UpsertProductsSchema allows 1,000). */
const BATCH = 1000;

export interface FeedImportResult extends FeedImport {
  uploaded: number;
  dryRun: boolean;
}

export async function importFeed(client: EdgeAdminClient, text: string, options: { dryRun: boolean; categoryLevel: number }): Promise<FeedImportResult> {
  const site = await client.settings();
  const parsed = parseMerchantFeed(text, { currency: site.currency, categoryLevel: options.categoryLevel });
  const popularity = new Map((await client.catalog()).products.map((p) => [p.id, p.popularity]));
  const products = parsed.products.map((p) => ({ ...p, popularity: popularity.get(p.id) ?? p.popularity }));
  let uploaded = 0;
  if (!options.dryRun) {
    for (let i = 0; i < products.length; i += BATCH) {
      const batch = products.slice(i, i + BATCH);
      await client.putProducts(batch);
      uploaded += batch.length;
    }
  }
  return { products, refused: parsed.refused, uploaded, dryRun: options.dryRun };
}

/** What the command prints: the refusals first (what the merchant has to fix), then the count. */
export function feedImportText(r: FeedImportResult): string {
  const lines = r.refused.map((x) => `line ${x.line}: ${x.field}: ${x.reason}`);
  const done = r.dryRun ? `${r.products.length} product(s) would be uploaded (dry run: nothing sent)` : `${r.uploaded} product(s) uploaded`;
  return [...lines, `${done}; ${r.refused.length} row(s) refused${r.refused.length ? ' (listed above)' : ''}`].join('\n');
}
