import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import { pacingOf } from '../../protocol/budget-pacing.ts';
import { atHeadScale, partsFor, roundMechanisms } from '../../protocol/report-parts.ts';
import type { SiteSettings } from '../../protocol/site-settings.ts';
import type { RoundSegment, SiteAnswer } from '../../protocol/admin-answers.ts';

/** A site's settings as stored, defaults filled in, with its round schedule: what the admin API answers (protocol/admin-answers.ts). */
export type SiteRow = SiteAnswer;

/**
 * The site settings and their columns, one line each: the SELECT, the row's mapping and the
 * upsert are all made from this list, so a new setting is a migration and one line here.
 * `json`: stored as JSON text (arrays).
 */
const SETTING_COLUMNS: readonly { key: keyof SiteSettings; column: string; json?: true }[] = [
  { key: 'name', column: 'name' },
  { key: 'allowedOrigins', column: 'allowed_origins', json: true },
  { key: 'minCohort', column: 'min_cohort' },
  { key: 'roundSeconds', column: 'round_seconds' },
  { key: 'explorationFloor', column: 'exploration_floor' },
  { key: 'frequencyCapPerDay', column: 'frequency_cap_per_day' },
  { key: 'excludedCategories', column: 'excluded_categories', json: true },
  { key: 'configRefreshSeconds', column: 'config_refresh_seconds' },
  { key: 'epsilonBudget', column: 'epsilon_budget' },
  { key: 'noiseMultiplier', column: 'noise_setting' }, // NULL: paced (protocol/budget-pacing.ts)
  { key: 'attributionDays', column: 'attribution_days' },
  { key: 'headClip', column: 'head_clip' },
  { key: 'currency', column: 'currency' },
  { key: 'budgetPeriodDays', column: 'budget_period_days' },
  { key: 'tokensPerAddress', column: 'tokens_per_address' },
  { key: 'roundShards', column: 'round_shards' },
  { key: 'opeClip', column: 'ope_clip' },
  { key: 'ipv6Prefix', column: 'ipv6_prefix' },
  { key: 'learning', column: 'learning' },
  { key: 'offsetClip', column: 'offset_clip' },
  { key: 'holdoutShare', column: 'holdout_share' },
  { key: 'valueUnit', column: 'value_unit' },
];

const COLUMNS = SETTING_COLUMNS.map((c) => c.column);
const SELECT_SITE = `SELECT id, last_contributors, at_head_scale, ${COLUMNS.join(', ')} FROM sites WHERE id = ?`;
const SELECT_SCHEDULE = 'SELECT from_round, starts_at, round_seconds FROM round_schedule WHERE site = ? ORDER BY from_round';
/** ?1 the id, ?2 the time of the change, then the settings in SETTING_COLUMNS' order. */
const UPSERT_SITE = `INSERT INTO sites (id, updated_at, ${COLUMNS.join(', ')}) VALUES (?1, ?2, ${COLUMNS.map((_, i) => `?${i + 3}`).join(', ')})
  ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`;

export async function getSite(db: D1Database, site: string): Promise<SiteRow | null> {
  const [row, schedule] = await db.batch<Record<string, unknown>>([db.prepare(SELECT_SITE).bind(site), db.prepare(SELECT_SCHEDULE).bind(site)]);
  const stored = row!.results[0];
  if (!stored) return null;
  const settings = Object.fromEntries(
    SETTING_COLUMNS.flatMap(({ key, column, json }) => (stored[column] === null ? [] : [[key, json ? JSON.parse(stored[column] as string) : stored[column]]])),
  ) as SiteSettings;
  const lastContributors = (stored.last_contributors as number | null) ?? null;
  const headScale = stored.at_head_scale === 1;
  const parts = partsFor(settings.learning, headScale);
  return {
    id: stored.id as string,
    ...settings,
    lastContributors,
    atHeadScale: headScale,
    parts: [...parts],
    pacing: pacingOf(settings, roundMechanisms(parts)),
    roundSchedule: (schedule!.results as { from_round: number; starts_at: number; round_seconds: number }[]).map((s) => ({
      fromRound: s.from_round,
      startsAt: s.starts_at,
      roundSeconds: s.round_seconds,
    })),
  };
}

/** The settings a site row holds (what a PUT would send to store it again), for PATCH to merge into. */
export function settingsOf(site: SiteRow): Partial<SiteSettings> {
  return Object.fromEntries(SETTING_COLUMNS.flatMap(({ key }) => (site[key] === undefined || site[key] === null ? [] : [[key, site[key]]])));
}

/** The statements that replace a site's round schedule. */
function scheduleStatements(db: D1Database, site: string, schedule: readonly RoundSegment[]): D1PreparedStatement[] {
  const insert = db.prepare('INSERT INTO round_schedule (site, from_round, starts_at, round_seconds) VALUES (?, ?, ?, ?)');
  return [
    db.prepare('DELETE FROM round_schedule WHERE site = ?').bind(site),
    ...schedule.map((g) => insert.bind(site, g.fromRound, g.startsAt, g.roundSeconds)),
  ];
}

/**
 * Writes a site's settings and its round schedule in one batch (one transaction): a new site's
 * first round starts now; a change of round length starts with the next round (round-schedule.ts).
 */
export async function upsertSite(db: D1Database, site: string, s: SiteSettings, schedule: readonly RoundSegment[]): Promise<void> {
  const values = SETTING_COLUMNS.map(({ key, json }) => (json ? JSON.stringify(s[key]) : (s[key] ?? null)));
  await db.batch([db.prepare(UPSERT_SITE).bind(site, new Date().toISOString(), ...values), ...scheduleStatements(db, site, schedule)]);
}

/** Replaces a site's round schedule alone (test controls: a round closed early). */
export async function replaceSchedule(db: D1Database, site: string, schedule: readonly RoundSegment[]): Promise<void> {
  await db.batch(scheduleStatements(db, site, schedule));
}

/** The privacy terms a site's reports are clipped to and its releases noised with. */
export function sitePrivacy(site: SiteRow): PrivacyTerms {
  return {
    ...DEFAULT_PRIVACY,
    noiseMultiplier: site.pacing.noiseMultiplier,
    headClip: site.headClip,
    opeClip: site.opeClip,
    offsetClip: site.offsetClip,
    valueUnit: site.valueUnit,
  };
}

/**
 * The noised contributor count of the site's last released round (public; report-parts.ts "auto"
 * reads it), and whether the site is at the head's scale after it (atHeadScale, from before).
 */
export async function recordLastContributors(db: D1Database, site: string, contributors: number): Promise<void> {
  const row = await db.prepare('SELECT at_head_scale FROM sites WHERE id = ?').bind(site).first<{ at_head_scale: number }>();
  const headScale = atHeadScale(row?.at_head_scale === 1, contributors);
  await db
    .prepare('UPDATE sites SET last_contributors = ?, at_head_scale = ? WHERE id = ?')
    .bind(contributors, headScale ? 1 : 0, site)
    .run();
}
