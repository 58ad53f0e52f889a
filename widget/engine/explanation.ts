/**
 * "Why this ad?": the reason for a decision from the shopper's own data, computed on the device
 * like the decision itself. It names the strongest local reason the creative fits (a category or
 * brand the shopper viewed, the page they are on), or says plainly that the creative is popular
 * or a suggestion to explore. The renderer words it in the shopper's language
 * (render/shopper-language.ts).
 */
import type { PageContext } from '../../protocol/features.ts';
import type { ShopperProfile } from '../../protocol/profile.ts';
import type { Candidate } from '../../protocol/wire.ts';

/** A category or brand with at least this share of the shopper's decayed interest counts as a reason. */
const REASON_SHARE = 0.2;

function share(weights: Record<string, number>, key: string): number {
  let total = 0;
  for (const k in weights) total += weights[k]!;
  return total > 0 ? (weights[key] ?? 0) / total : 0;
}

const label = (key: string) => key.replace(/[-_]+/g, ' ');

export type Explanation = { kind: 'looking_at' | 'viewed'; subject: string } | { kind: 'popular' | 'explore' };

export function explainDecision(profile: ShopperProfile, page: PageContext, candidate: Candidate, personalized: boolean): Explanation {
  if (page.category !== null && page.category === candidate.category) return { kind: 'looking_at', subject: label(candidate.category) };
  if (personalized && share(profile.categories, candidate.category) >= REASON_SHARE) return { kind: 'viewed', subject: label(candidate.category) };
  if (personalized && candidate.brand && share(profile.brands, candidate.brand) >= REASON_SHARE) return { kind: 'viewed', subject: candidate.brand };
  return { kind: personalized ? 'explore' : 'popular' };
}
