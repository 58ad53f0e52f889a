/**
 * A site's settings as the admin API takes them (PUT replaces, PATCH changes what it names): each
 * with its default, its bounds and the reason for them. The edge stores them (site-store.ts, one
 * column each), devices get what they need of them in the config (wire.ts SiteConfigSchema).
 */
import * as v from 'valibot';
import { MAX_EPSILON_BUDGET, MIN_NOISE_MULTIPLIER } from './budget-pacing.ts';
import { DEFAULT_HOLDOUT_SHARE, MAX_HOLDOUT_SHARE } from './holdout.ts';
import { DEFAULT_PRIVACY } from './privacy.ts';
import { LEARNING_MODES } from './report-parts.ts';
import { DEFAULT_ATTRIBUTION_DAYS, TEXT } from './wire.ts';

export const SiteSettingsSchema = v.strictObject({
  name: TEXT,
  /** Origins allowed to call the public routes from a browser (CORS). */
  allowedOrigins: v.pipe(v.array(v.pipe(v.string(), v.regex(/^https?:\/\/[^/\s]+$/, 'an origin is scheme://host[:port]'))), v.maxLength(50)),
  /** Minimum distinct reports before a round's aggregates are released. */
  minCohort: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(1_000_000)), 50),
  roundSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(30 * 86400)), 86400),
  /** Probability mass reserved for uniform exploration, spread over the eligible candidates. */
  explorationFloor: v.optional(v.pipe(v.number(), v.minValue(0.001), v.maxValue(0.5)), 0.01),
  /** Impressions of one creative per device per day before it stops being eligible there (0: no cap). */
  frequencyCapPerDay: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1000)), 3),
  /** Product categories never advertised (a merchant's brand-safety or legal list). */
  excludedCategories: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))), v.maxLength(200)), []),
  /** How often a device re-checks the config (and so the serving model) while a page stays open. */
  configRefreshSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86400)), 300),
  /**
   * Privacy budget per period: the rounds that start within any `budgetPeriodDays` spend at most
   * this (epsilon, at delta 1e-6; PRIVACY.md). While the last period has spent anything it can be
   * lowered, never raised. At most 20: past it an epsilon protects nobody.
   */
  epsilonBudget: v.optional(v.pipe(v.number(), v.minValue(0.1), v.maxValue(MAX_EPSILON_BUDGET)), 8),
  /** Days of the budget's window (a round is charged at its start); while the last period has spent anything it can be lengthened, never shortened. */
  budgetPeriodDays: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3650)), 30),
  /**
   * Report tokens a client address may obtain per round (PRIVACY.md): one per device, so this is
   * how many devices behind one address (a household, an office, a carrier's NAT) can report in
   * a round, and how many reports one address can send. Lower is safer, higher loses fewer devices.
   */
  tokensPerAddress: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)), 20),
  /**
   * Aggregators a round's reports are spread over (edge-worker/src/rounds.ts): one takes
   * about 600-700 reports a second; a shop expecting more at its peak sets more. A change applies
   * from the next round a device reports in (a round keeps the count it started with).
   */
  roundShards: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64)), 1),
  /** Days after a click in which a purchase counts as that creative's conversion. */
  attributionDays: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(90)), DEFAULT_ATTRIBUTION_DAYS),
  /** The currency of the catalog's prices (ISO 4217): creatives show prices in it, in the shopper's language. */
  currency: v.optional(v.pipe(v.string(), v.regex(/^[A-Z]{3}$/, 'a currency is an ISO 4217 code: three capital letters, e.g. USD')), 'USD'),
  /**
   * Noise standard deviation over the clipping bound in each release (PRIVACY.md). Absent: paced,
   * the noise at which every round of a period fits the budget (protocol/budget-pacing.ts). Set,
   * it may be higher than the pace (a stricter site), never so low that the budget runs out
   * before the period ends. At least 0.5.
   */
  noiseMultiplier: v.optional(v.pipe(v.number(), v.minValue(MIN_NOISE_MULTIPLIER), v.maxValue(100))),
  /**
   * L2 bound of one device's last-layer statistics per round (PRIVACY.md). A shown decision adds
   * about |phi|^2 (roughly 25-200) to their norm: a site whose shoppers see one or two ads per
   * round can set a few hundred, and every release then carries that much less noise. Changes
   * apply from the next round on.
   */
  headClip: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100_000)), DEFAULT_PRIVACY.headClip),
  /**
   * L2 bound of one device's off-policy sums per round, all evaluated models together
   * (PRIVACY.md). A shown decision adds about 1 to three of each model's five sums; a site whose
   * shoppers see a few ads per round can set a bound near what its devices send (choose it from
   * synthetic devices, not real reports), and its off-policy estimates carry that much less
   * noise, which is what lets the promotion gate decide at a small shop's scale. Changes apply
   * from the next round on.
   */
  opeClip: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(100_000)), DEFAULT_PRIVACY.opeClip),
  /**
   * The IPv6 network a client key covers (report tokens per address and round, rate limits,
   * PRIVACY.md): 64, one household's or phone's /64, or 56, a whole customer allocation, for a
   * site whose attackers hold many /64s. IPv4 keys are whole addresses.
   */
  ipv6Prefix: v.optional(v.picklist([56, 64]), 64),
  /**
   * What the site's rounds collect and release (protocol/report-parts.ts): `auto`, by its scale
   * (offsets and off-policy sums below HEAD_SCALE reports a round, the head and towers too above
   * it); `offsets` or `full`, always one of the two.
   */
  learning: v.optional(v.picklist(LEARNING_MODES), 'auto'),
  /** L2 bound of one device's offsets part per round (PRIVACY.md; protocol/offsets.ts). Changes apply from the next round on. */
  offsetClip: v.optional(v.pipe(v.number(), v.minValue(0.1), v.maxValue(1000)), DEFAULT_PRIVACY.offsetClip),
  /**
   * The share of devices that keep the slots' own content for a period (protocol/holdout.ts):
   * what the dashboard's headline measures Vitrine against. 0 turns the holdout off.
   */
  holdoutShare: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(MAX_HOLDOUT_SHARE)), DEFAULT_HOLDOUT_SHARE),
  /**
   * Revenue is counted in units of this much of `currency` (PRIVACY.md; protocol/privacy.ts): a
   * device's attributed order value counts up to 10 units a round, and each creative's released
   * revenue carries noise of about 50 units. A typical order should be a few units. Changes
   * apply from the next round on.
   */
  valueUnit: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1_000_000)), DEFAULT_PRIVACY.valueUnit),
});
export type SiteSettings = v.InferOutput<typeof SiteSettingsSchema>;
