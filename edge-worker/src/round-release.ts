/**
 * Releasing a closed round, in two steps each charged to the ledger before its noise is drawn
 * (refused with 403 when that would pass the period's budget): first the round is counted (its
 * noised count vector, a quarter of a mechanism, protocol/privacy.ts COUNT_MECHANISMS), then,
 * if that count reaches minCohort, its sums are released (the rest). The object keeps both:
 * releasing again returns the same and spends nothing. A round counted below the cohort answers
 * its status (it never will be released); an open one 409. The admin route
 * (`POST .../rounds/{round}/release`) and the edge's own schedule (scheduled-releases.ts) both
 * release through this.
 */
import type { RoundAnswer } from '../../protocol/admin-answers.ts';
import { headStatsLength } from '../../protocol/head-statistics.ts';
import { HOLDOUT_CREATIVE } from '../../protocol/holdout.ts';
import { UNIFORM_POLICY } from '../../protocol/off-policy.ts';
import { COUNT_MECHANISMS } from '../../protocol/privacy.ts';
import { roundMechanisms } from '../../protocol/report-parts.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { reportModels } from './model-store.ts';
import { recordContributors, reserveRelease } from './privacy-ledger.ts';
import type { RoundTerms } from './round-contract.ts';
import type { ReleaseShape } from './round-sums.ts';
import { roundAggregator, roundTerms } from './rounds.ts';
import { forgetSite } from './site-cache.ts';
import { recordLastContributors } from './site-store.ts';
import { listCreativeIds } from './catalog-store.ts';
import type { SiteRow } from './site-store.ts';

export async function releaseRound(env: Env, settings: SiteRow, round: number): Promise<RoundAnswer> {
  const site = settings.id;
  const aggregator = roundAggregator(env.ROUNDS, site, round);
  const fallback = roundTerms(settings, round);
  let status = await aggregator.status(fallback);
  if (status.status === 'open')
    throw new HttpError(409, 'round_open', `round ${round} is still open (it closes at ${new Date(status.deadline).toISOString()})`);
  // With a serving model every part the site collects now is released (zeros plus noise where
  // none was sent) and charged; a part it does not collect is neither.
  const serving = await reportModels(env.DB, site);
  const shape: ReleaseShape | null = serving && {
    model: serving.version,
    parts: settings.parts,
    headLength: headStatsLength(serving.dim),
    towerParameters: serving.towerParameters,
    opeModels: [serving.version, ...serving.candidates, UNIFORM_POLICY],
    offsetKeys: serving.offsetKeys,
  };
  if (status.status === 'closed') {
    // The budget check and the ledger's row in one step (privacy-ledger.ts), before the count's noise is drawn.
    await reserveRelease(env.DB, settings, {
      round,
      start: roundStart(status, fallback),
      mechanisms: COUNT_MECHANISMS,
      noiseMultiplier: status.noiseMultiplier,
      contributors: 0,
    });
    status = await aggregator.count(site, round, fallback, shape?.model ?? null);
    if ('contributors' in status) await recordContributors(env.DB, site, round, status.contributors);
  }
  if (status.status !== 'releasable') return { site, round, ...status };
  const mechanisms = shape ? roundMechanisms(shape.parts) : 1 + COUNT_MECHANISMS;
  await reserveRelease(env.DB, settings, {
    round,
    start: roundStart(status, fallback),
    mechanisms,
    noiseMultiplier: status.noiseMultiplier,
    contributors: status.contributors,
  });
  // The holdout's own-content counts are listed in every release, like every creative's (protocol/holdout.ts).
  const release = await aggregator.releaseNoised(site, round, [...(await listCreativeIds(env.DB, site)), HOLDOUT_CREATIVE], shape);
  if (!release) throw new HttpError(409, 'not_releasable', `round ${round} cannot be released`);
  if (Math.abs(release.mechanisms - mechanisms) > 1e-9)
    throw new Error(`round ${round} released ${release.mechanisms} mechanisms, the ledger charged ${mechanisms}`);
  // The site's scale, public (a noised count): which parts its next rounds collect (report-parts.ts "auto").
  await recordLastContributors(env.DB, site, status.contributors);
  forgetSite(site);
  return {
    site,
    round,
    contributors: status.contributors,
    minCohort: status.minCohort,
    start: status.start,
    deadline: status.deadline,
    status: 'released',
    release,
  };
}

/** When a round began: its object's stored start, or for an object older than stored starts, its window in the schedule. */
function roundStart(status: { start: number | null }, fallback: RoundTerms): number {
  return status.start ?? fallback.start!;
}
