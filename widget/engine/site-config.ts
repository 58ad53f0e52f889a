/** Fetching and validating the site's config: templates, candidates, model manifest, round. */
import * as v from 'valibot';
import { describeIssues, SiteConfigSchema } from '../../protocol/wire.ts';
import type { SiteConfig } from '../../protocol/wire.ts';

export async function fetchSiteConfig(edge: string, site: string): Promise<SiteConfig> {
  const response = await fetch(`${edge}/v1/sites/${encodeURIComponent(site)}/config`, { credentials: 'omit' });
  if (!response.ok) throw new Error(`config for site ${site} answered ${response.status}`);
  const parsed = v.safeParse(SiteConfigSchema, await response.json());
  if (!parsed.success) throw new Error(`config for site ${site} is invalid: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}
