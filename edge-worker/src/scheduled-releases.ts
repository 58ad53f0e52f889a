/**
 * Rounds are counted and released on the edge's schedule (a Cron Trigger, wrangler.toml), not by
 * a command's look-back: every round of every site that has closed since the last run, from the
 * site's first round on (never one from before the site existed), at the cost the site's pacing
 * planned for it (protocol/budget-pacing.ts paces the noise so that every round of a period fits
 * the budget). The trainer's `pull` then reads releases that are already made and spends nothing;
 * a pull before the schedule's run releases the same way (round-release.ts: a round is counted
 * and released once, whoever asks first).
 *
 * A site whose budget would be passed stops there (its rounds wait, uncounted, until the window
 * frees budget: the ledger refuses, nothing is spent); a failure of one site leaves the others'.
 */
import type { Env } from './env.ts';
import { HttpError } from './http-error.ts';
import { releaseRound } from './round-release.ts';
import { openRound } from './rounds.ts';
import { getSite } from './site-store.ts';

/** Rounds one site may have released in one run: a site that fell behind catches up over a few runs. */
export const ROUNDS_PER_RUN = 48;

export interface SiteReleases {
  site: string;
  /** The rounds this run counted (released when at or above the cohort), oldest first. */
  rounds: number[];
  /** Why the site stopped early, if it did. */
  stopped?: string;
}

export async function releaseDueRounds(env: Env, now = Date.now()): Promise<SiteReleases[]> {
  const { results } = await env.DB.prepare('SELECT id, released_through FROM sites ORDER BY id').all<{ id: string; released_through: number | null }>();
  const out: SiteReleases[] = [];
  for (const row of results) {
    const site = await getSite(env.DB, row.id);
    if (!site) continue;
    const first = site.roundSchedule[0]!.fromRound;
    const open = openRound(site, now).id;
    const done: SiteReleases = { site: site.id, rounds: [] };
    for (let round = Math.max(first, (row.released_through ?? first - 1) + 1); round < open && done.rounds.length < ROUNDS_PER_RUN; round++) {
      try {
        await releaseRound(env, site, round);
      } catch (e) {
        done.stopped = e instanceof HttpError ? e.message : String(e);
        if (!(e instanceof HttpError)) console.error(`scheduled release of site ${site.id} round ${round} failed`, e);
        break;
      }
      done.rounds.push(round);
      await env.DB.prepare('UPDATE sites SET released_through = ? WHERE id = ?').bind(round, site.id).run();
    }
    out.push(done);
  }
  return out;
}

/** The Worker's scheduled handler: the run, and one log line per site that released or stopped. */
export const scheduledReleases: ExportedHandlerScheduledHandler<Env> = (controller, env, ctx) => {
  ctx.waitUntil(
    releaseDueRounds(env, controller.scheduledTime).then((sites) => {
      for (const s of sites)
        if (s.rounds.length > 0 || s.stopped)
          console.log(`scheduled releases: site ${s.site}: rounds ${s.rounds.join(', ') || 'none'}${s.stopped ? `; stopped: ${s.stopped}` : ''}`);
    }),
  );
};
