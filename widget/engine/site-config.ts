/**
 * Fetching and validating the site's config: templates, candidates, model manifest, round.
 *
 * Templates and candidates are validated one by one: a merchant's single bad creative (or
 * template) costs that creative (or the creatives using that template), not the whole slot; the
 * policy draws from the valid ones. Anything else invalid refuses the config (the slot keeps the
 * merchant's own content).
 */
import * as v from 'valibot';
import { CandidateSchema, describeIssues, SiteConfigSchema, TemplateSchema } from '../../protocol/wire.ts';
import type { Candidate, SiteConfig, Template } from '../../protocol/wire.ts';
import type { PrefetchedConfig } from './engine-api.ts';
import { configUrl } from '../config-url.ts';

const ConfigEnvelopeSchema = v.object({ ...SiteConfigSchema.entries, templates: v.array(v.unknown()), candidates: v.array(v.unknown()) });

export interface FetchedConfig {
  config: SiteConfig;
  /** The config's ETag: equal ETags mean an unchanged config. */
  etag: string | null;
  /** One line per template or candidate left out, for the one warning the page gets. */
  dropped: string[];
}

/** The edge's reason in an error answer (its JSON `detail`; readable because the edge's 4xx answers carry CORS headers). */
async function edgeReason(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown; detail?: unknown };
    return typeof body.detail === 'string' ? `: ${body.detail.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

/**
 * `revalidate` asks the edge whether the config changed (a conditional request the browser
 * answers from its cache on 304) instead of trusting the HTTP cache's max-age. `prefetched`: the
 * page's answer to the same request, read instead of asking again.
 */
export async function fetchSiteConfig(edge: string, site: string, revalidate = false, prefetched?: PrefetchedConfig | null): Promise<FetchedConfig> {
  const response = prefetched
    ? new Response(prefetched.body, { status: prefetched.status, headers: prefetched.etag ? { etag: prefetched.etag } : {} })
    : await fetch(configUrl(edge, site), { credentials: 'omit', cache: revalidate ? 'no-cache' : 'default' });
  if (!response.ok) throw new Error(`config for site ${site} answered ${response.status}${await edgeReason(response)}`);
  const parsed = v.safeParse(ConfigEnvelopeSchema, await response.json());
  if (!parsed.success) throw new Error(`config for site ${site} is invalid: ${describeIssues(parsed.issues)}`);
  const dropped: string[] = [];
  const each = <T>(schema: v.GenericSchema<unknown, T>, items: unknown[], what: string): T[] =>
    items.flatMap((raw, i) => {
      const item = v.safeParse(schema, raw);
      if (item.success) return [item.output];
      dropped.push(`${what} ${i} (${String((raw as { id?: unknown } | null)?.id ?? '?')}): ${describeIssues(item.issues)}`);
      return [];
    });
  const templates: Template[] = each(TemplateSchema, parsed.output.templates, 'template');
  const candidates: Candidate[] = each(CandidateSchema, parsed.output.candidates, 'candidate');
  return { config: { ...parsed.output, templates, candidates }, etag: response.headers.get('etag'), dropped };
}

/** The one warning for candidates left out, or null when there were none. */
export function droppedNote(dropped: readonly string[]): string | null {
  return dropped.length > 0 ? `${dropped.length} template(s) or candidate(s) left out: ${dropped.join('; ')}` : null;
}
