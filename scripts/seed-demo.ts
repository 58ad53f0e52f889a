/** Seeds the demo site on an edge through the real admin API: settings, catalog, templates, creatives, first model. */
import { bootstrapSiteModel } from '../model-training/src/bootstrap-model.ts';
import { EdgeAdminClient } from '../model-training/src/edge-admin-client.ts';
import { CREATIVES, DEMO_SITE, PRODUCTS, TEMPLATES } from '../test/fixtures/storefront/demo-catalog.ts';

/**
 * `holdoutShare`: the demo keeps the default (5% of browsers see the shop's own slot content for
 * 30 days); the e2e tests and the bench, which need a creative on every page they open, set 0
 * (the holdout's own tests set it on the page's config).
 */
export async function seedDemo(edge: string, token: string, shopOrigins: string[], log: (line: string) => void, holdoutShare?: number): Promise<string> {
  const client = new EdgeAdminClient(edge, DEMO_SITE, token);
  // A real site's defaults (a round a day from the site's creation, the default budget and
  // noise), but two a demo on one machine needs: a small cohort, so that a demo round can
  // release with a handful of shoppers, and many report tokens per address, since every browser
  // of a demo on localhost is one client address (a storefront on the internet keeps the
  // defaults, 50 and 20 per address and round).
  await client.putSite({
    name: 'Vitrine demo shop',
    allowedOrigins: shopOrigins,
    minCohort: 5,
    tokensPerAddress: 100_000,
    ...(holdoutShare === undefined ? {} : { holdoutShare }),
  });
  await client.putProducts(PRODUCTS.map(({ description: _, ...p }) => p));
  await client.putTemplates(TEMPLATES);
  await client.putCreatives(CREATIVES);
  return bootstrapSiteModel(client, { examples: 40_000, cacheDir: '.vitrine/models', log });
}
