/**
 * Controls that tests need and a shop must never have: closing a site's open round now, so a
 * test's round ends when its reports are in rather than when a deadline passes on a machine of
 * unknown speed. Mounted only by test-worker.ts (absent from the production build), and even
 * there refused unless the TEST_CONTROLS binding is "enabled" and the site's admin token is sent.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { requireSiteAdmin } from './admin-auth.ts';
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { roundAggregator, roundTerms } from './rounds.ts';
import { withRoundClosedAt } from './round-schedule.ts';
import { forgetSite } from './site-cache.ts';
import { getSite, replaceSchedule } from './site-store.ts';
import { readJson } from './request-body.ts';

export const testControls = new Hono<{ Bindings: Env }>();

testControls.use('/v1/test/*', async (c, next) => {
  if (c.env.TEST_CONTROLS !== 'enabled') throw new HttpError(404, 'not_found', `no route ${c.req.path}`);
  await next();
});

/**
 * Ends the site's open round now and begins the next: the schedule gets a segment that starts
 * now, and every shard of the closed round stops taking reports (its deadline moves to now).
 * Answers the closed round and the one now open.
 */
testControls.post('/v1/test/sites/:site/rounds/close', async (c) => {
  const id = c.req.param('site');
  await requireSiteAdmin(c.req.raw, c.env.ADMIN_TOKENS, id);
  const site = await getSite(c.env.DB, id);
  if (!site) throw new HttpError(404, 'unknown_site', `no site ${id}`);
  const now = Date.now();
  const { schedule, closed, open } = withRoundClosedAt(site.roundSchedule, now);
  const terms = roundTerms(site, closed.id);
  await replaceSchedule(c.env.DB, id, schedule);
  forgetSite(id);
  await roundAggregator(c.env.ROUNDS, id, closed.id).closeAt(id, closed.id, terms, now);
  return c.json({ site: id, closed: closed.id, open: open.id, openDeadline: open.deadline });
});

const ScheduleSchema = v.strictObject({
  segments: v.pipe(
    v.array(
      v.strictObject({
        fromRound: v.pipe(v.number(), v.integer(), v.minValue(0)),
        startsAt: v.number(),
        roundSeconds: v.pipe(v.number(), v.integer(), v.minValue(1)),
      }),
    ),
    v.minLength(1),
  ),
});

/**
 * Replaces the site's round schedule (its segments, ascending), so a test can hold rounds that
 * began days or months ago, as a site that has run that long has: the test owns the calendar
 * instead of waiting for it.
 */
testControls.put('/v1/test/sites/:site/schedule', async (c) => {
  const id = c.req.param('site');
  await requireSiteAdmin(c.req.raw, c.env.ADMIN_TOKENS, id);
  if (!(await getSite(c.env.DB, id))) throw new HttpError(404, 'unknown_site', `no site ${id}`);
  const { segments } = await readJson(c.req.raw, ScheduleSchema, 64 * 1024);
  if (segments.some((s, i) => i > 0 && s.fromRound <= segments[i - 1]!.fromRound)) throw new HttpError(422, 'invalid_body', 'segments ascend by fromRound');
  await replaceSchedule(c.env.DB, id, segments);
  forgetSite(id);
  return c.json({ site: id, segments });
});
