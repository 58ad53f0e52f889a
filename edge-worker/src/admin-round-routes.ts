/**
 * The admin API's rounds: the recent rounds at a glance, one round, its release (counted, then
 * released, each charged to the privacy ledger first), and the ledger itself. Mounted inside
 * admin-routes.ts, behind its check of the site's token.
 */
import { Hono } from 'hono';
import type { Ledger, RoundAnswer, RoundsAnswer } from '../../protocol/admin-answers.ts';
import { PRIVACY_DELTA } from '../../protocol/privacy.ts';
import { existingSiteRow } from './admin-site.ts';
import type { AppContext } from './admin-site.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { budgetOutlook, ledgerRows, spent } from './privacy-ledger.ts';
import { expectNoBody } from './request-body.ts';
import { releaseRound } from './round-release.ts';
import { existingRound, openRound, roundAggregator, roundTerms } from './rounds.ts';
import type { SiteRow } from './site-store.ts';

export const adminRoundRoutes = new Hono<{ Bindings: Env }>();

/**
 * The recent rounds at a glance, for the dashboard: those of the last `last` closed rounds
 * (default 24, at most 200) that were counted, with their status and noised contributor count,
 * and the noised release of those already released. Reading this never counts or releases a
 * round (so it spends no privacy budget): that is the trainer's pull, POST .../rounds/{round}/release.
 */
adminRoundRoutes.get('/v1/admin/sites/:site/rounds', async (c) => {
  const settings = await existingSiteRow(c);
  const last = Number(c.req.query('last') ?? 24);
  if (!Number.isInteger(last) || last < 1 || last > 200) throw new HttpError(400, 'invalid_query', 'last is a whole number from 1 to 200');
  const current = openRound(settings).id;
  // Closed rounds only, and none from before the site's first round (nobody could report in them).
  const first = settings.roundSchedule[0]!.fromRound;
  const ids = Array.from({ length: Math.max(0, Math.min(last, current - first)) }, (_, i) => current - 1 - i);
  const rounds = await Promise.all(
    ids.map(async (round) => {
      const status = await roundAggregator(c.env.ROUNDS, settings.id, round).status(roundTerms(settings, round));
      return { round, ...status };
    }),
  );
  return c.json<RoundsAnswer>({
    site: settings.id,
    current,
    minCohort: settings.minCohort,
    rounds: rounds.filter((r) => r.status !== 'open' && r.status !== 'closed'),
  });
});

function roundParam(c: AppContext, site: SiteRow): number {
  const param = c.req.param('round');
  const round = param === 'current' ? openRound(site).id : Number(param);
  if (!Number.isSafeInteger(round) || round < 0) throw new HttpError(400, 'invalid_round', 'a round is "current" or a non-negative integer');
  existingRound(site, round);
  return round;
}

/**
 * A round: while open or not yet counted, its status; once counted, its noised contributor
 * count; once released, its noised sums. Reading never counts or releases (so it never spends
 * privacy budget): that is POST .../release.
 */
adminRoundRoutes.get('/v1/admin/sites/:site/rounds/:round', async (c) => {
  const settings = await existingSiteRow(c);
  const round = roundParam(c, settings);
  const status = await roundAggregator(c.env.ROUNDS, settings.id, round).status(roundTerms(settings, round));
  return c.json<RoundAnswer>({ site: settings.id, round, ...status });
});

/**
 * Releases a closed round, in two steps each charged to the ledger before its noise is drawn
 * (refused with 403 when that would pass the period's budget): first the round is counted (its
 * noised count vector, a quarter of a mechanism, protocol/privacy.ts COUNT_MECHANISMS), then,
 * if that count reaches minCohort, its sums are released (the rest). The object keeps both:
 * releasing again returns the same and spends nothing. A round counted below the cohort answers
 * its status (it never will be released); an open one 409.
 */
adminRoundRoutes.post('/v1/admin/sites/:site/rounds/:round/release', async (c) => {
  const settings = await existingSiteRow(c);
  const round = roundParam(c, settings);
  await expectNoBody(c.req.raw);
  return c.json<RoundAnswer>(await releaseRound(c.env, settings, round));
});

/**
 * The site's privacy ledger: what the last period (a window of budgetPeriodDays up to now) has
 * spent and when its first spend leaves it, what every charged round together costs, the noise
 * every round gets and what the budget allows from now (rounds left, and the day it would run
 * out at one release a round, if it would within the next period), and every charged round.
 */
adminRoundRoutes.get('/v1/admin/sites/:site/privacy', async (c) => {
  const settings = await existingSiteRow(c);
  const rows = await ledgerRows(c.env.DB, settings.id);
  const now = Date.now();
  const outlook = budgetOutlook(settings, rows, openRound(settings, now).start, now);
  const iso = (ms: number) => new Date(ms).toISOString();
  return c.json<Ledger>({
    site: settings.id,
    delta: PRIVACY_DELTA,
    budget: settings.epsilonBudget,
    periodDays: settings.budgetPeriodDays,
    window: { from: iso(outlook.windowFrom), to: iso(now) },
    epsilon: outlook.epsilon,
    freesAt: outlook.freesAt === null ? null : iso(outlook.freesAt),
    epsilonAllTime: spent(rows),
    pacing: {
      noiseMultiplier: settings.pacing.noiseMultiplier,
      paced: settings.pacing.paced,
      roundsPerPeriod: settings.pacing.roundsPerPeriod,
      epsilonPerRound: settings.pacing.epsilonPerRound,
      roundsLeft: outlook.roundsLeft,
      runsOutAt: outlook.runsOutAt === null ? null : iso(outlook.runsOutAt),
    },
    rounds: rows,
  });
});
