/**
 * Fetching and validating the site's config: templates, candidates, model manifest, round.
 *
 * Candidates are validated one by one: a merchant's single bad creative costs that creative,
 * not the whole slot. Anything else invalid refuses the config (the slot keeps the merchant's
 * own content).
 */
import * as v from 'valibot';
import { CandidateSchema, describeIssues, SiteConfigSchema } from '../../protocol/wire.ts';
import type { Candidate, SiteConfig } from '../../protocol/wire.ts';

const ConfigEnvelopeSchema = v.object({ ...SiteConfigSchema.entries, candidates: v.array(v.unknown()) });

export interface FetchedConfig {
  config: SiteConfig;
  /** The config's ETag: equal ETags mean an unchanged config. */
  etag: string | null;
  /** One line per candidate left out, for the one warning the page gets. */
  dropped: string[];
}

/**
 * `revalidate` asks the edge whether the config changed (a conditional request the browser
 * answers from its cache on 304) instead of trusting the HTTP cache's max-age.
 */
export async function fetchSiteConfig(edge: string, site: string, revalidate = false): Promise<FetchedConfig> {
  const response = await fetch(`${edge}/v1/sites/${encodeURIComponent(site)}/config`, { credentials: 'omit', cache: revalidate ? 'no-cache' : 'default' });
  if (!response.ok) throw new Error(`config for site ${site} answered ${response.status}`);
  const parsed = v.safeParse(ConfigEnvelopeSchema, await response.json());
  if (!parsed.success) throw new Error(`config for site ${site} is invalid: ${describeIssues(parsed.issues)}`);
  const candidates: Candidate[] = [];
  const dropped: string[] = [];
  for (const [i, raw] of parsed.output.candidates.entries()) {
    const candidate = v.safeParse(CandidateSchema, raw);
    if (candidate.success) candidates.push(candidate.output);
    else dropped.push(`candidate ${i} (${String((raw as { id?: unknown } | null)?.id ?? '?')}): ${describeIssues(candidate.issues)}`);
  }
  return { config: { ...parsed.output, candidates }, etag: response.headers.get('etag'), dropped };
}

/** The one warning for candidates left out, or null when there were none. */
export function droppedNote(dropped: readonly string[]): string | null {
  return dropped.length > 0 ? `${dropped.length} candidate(s) left out: ${dropped.join('; ')}` : null;
}
