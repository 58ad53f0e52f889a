/**
 * Wire types and their runtime validators: what the edge serves to devices, what devices send
 * back, and what the admin API accepts. The edge validates every request with these, the widget
 * validates every response, and the types flow from the schemas.
 */
import * as v from 'valibot';
import { HOLDOUT_CREATIVE, MAX_HOLDOUT_SHARE } from './holdout.ts';
import { LAYOUTS, MESSAGE_TYPES, SITE_ID_PATTERN } from './catalog.ts';
import { OPE_SUMS } from './off-policy.ts';
import { DEFAULT_PRIVACY } from './privacy.ts';
import { TOKEN_TEXT } from './report-token.ts';
import { headStatsLength } from './head-statistics.ts';
import { OffsetPartSchema } from './offsets.ts';
import { MODEL_PARTS } from './report-parts.ts';

export const SITE_ID = v.pipe(v.string(), v.regex(SITE_ID_PATTERN, 'a site id is 1-63 lowercase letters, digits or dashes'));
const ID = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'an id is 1-64 letters, digits, _ . or -'));
export const TEXT = v.pipe(v.string(), v.maxLength(200));
/** Links and images: http(s) or site-relative only, so a creative can never carry javascript: URLs. */
export const SAFE_URL = v.pipe(v.string(), v.maxLength(2048), v.regex(/^(https?:\/\/|\/(?!\/))/i, 'a URL must be http(s) or start with a single /'));
/** Days after a click in which a purchase converts that creative (a site setting; this when unset). */
export const DEFAULT_ATTRIBUTION_DAYS = 7;

/** How long a change made through the admin API may take to reach the public routes (each edge isolate keeps site rows and models that long). */
export const ADMIN_CHANGE_DELAY_MS = 5000;

const MODEL_VERSION = v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/, 'a model version is 16 hex digits'));
const COUNT = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1000));

// ---- Admin payloads -------------------------------------------------------------------------

const GTIN = v.pipe(v.string(), v.regex(/^(\d{8}|\d{12,14})$/, 'a GTIN is 8, 12, 13 or 14 digits (EAN, UPC or ISBN)'));
const MPN = v.pipe(v.string(), v.minLength(1), v.maxLength(70));

export const ProductSchema = v.strictObject({
  id: ID,
  name: TEXT,
  category: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  brand: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  price: v.pipe(v.number(), v.minValue(0), v.maxValue(1e7)),
  /** The price before a sale, if any: `{discount}` in a template is computed from it. */
  listPrice: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1e7))),
  imageUrl: SAFE_URL,
  url: SAFE_URL,
  inStock: v.optional(v.boolean(), true),
  popularity: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0),
  /** The product's GTIN (EAN, UPC, ISBN: 8, 12, 13 or 14 digits) and MPN, as its pages' markup and its feed name it: the device matches a page's product by them too. */
  gtin: v.optional(GTIN),
  mpn: v.optional(MPN),
});
export type Product = v.InferOutput<typeof ProductSchema>;

const VARIANTS = v.pipe(v.array(TEXT), v.minLength(1), v.maxLength(8));
/**
 * A creative template: a layout and its named asset slots. Text slots hold variants (the device
 * picks one of each at random and logs the probability); `{product.name}`, `{category}`,
 * `{brand}`, `{price}` and `{discount}` are filled on the device, and a text whose variable has
 * nothing to fill shows `fallback` instead. `image` replaces the product's image (a banner's
 * artwork); `badge` defaults to the creative's message type.
 */
/** An instant as ISO 8601 with its offset, e.g. 2026-12-24T00:00:00Z. */
const INSTANT = v.pipe(v.string(), v.isoTimestamp('an instant is ISO 8601 with its offset, e.g. 2026-12-24T00:00:00Z'));

/** A template's or a creative's life: paused or active, and an optional schedule. */
const LIFECYCLE = {
  /** Paused: kept in the catalog, served to no device, until set active again (absent: active). */
  status: v.optional(v.picklist(['active', 'paused'])),
  /** A schedule (ISO 8601 instants): served from `startsAt` and until `endsAt`, either optional. */
  startsAt: v.optional(INSTANT),
  endsAt: v.optional(INSTANT),
};
const scheduleInOrder = <T extends { startsAt?: string; endsAt?: string }>() =>
  v.check<T, string>((x) => !x.startsAt || !x.endsAt || Date.parse(x.endsAt) > Date.parse(x.startsAt), 'endsAt must be after startsAt');

/** Whether a template or creative with this life is served at `now`. */
export function servedNow(x: { status?: 'active' | 'paused'; startsAt?: string; endsAt?: string }, now: number): boolean {
  return x.status !== 'paused' && (!x.startsAt || Date.parse(x.startsAt) <= now) && (!x.endsAt || Date.parse(x.endsAt) > now);
}

export const TemplateSchema = v.strictObject({
  id: ID,
  layout: v.picklist(LAYOUTS),
  headline: VARIANTS,
  body: v.optional(VARIANTS, ['']),
  cta: VARIANTS,
  badge: v.optional(VARIANTS),
  image: v.optional(SAFE_URL),
  fallback: v.optional(TEXT),
  /** Pausing or scheduling a template pauses or schedules every creative made from it. */
  ...LIFECYCLE,
});
export type Template = v.InferOutput<typeof TemplateSchema>;

export const CreativeSchema = v.strictObject({
  id: v.pipe(
    ID,
    v.check((id) => id !== HOLDOUT_CREATIVE, `${HOLDOUT_CREATIVE} is reserved for the holdout's own-content counts`),
  ),
  templateId: ID,
  productId: v.nullable(ID),
  /** For creatives without a product (banners, text): the category they advertise. */
  category: v.optional(v.pipe(v.string(), v.maxLength(64))),
  messageType: v.picklist(MESSAGE_TYPES),
  ...LIFECYCLE,
});
export type Creative = v.InferOutput<typeof CreativeSchema>;

export const UpsertProductsSchema = v.strictObject({ products: v.pipe(v.array(ProductSchema), v.minLength(1), v.maxLength(1000)) });
export const UpsertTemplatesSchema = v.strictObject({
  templates: v.pipe(v.array(v.pipe(TemplateSchema, scheduleInOrder<Template>())), v.minLength(1), v.maxLength(100)),
});
export const UpsertCreativesSchema = v.strictObject({
  creatives: v.pipe(v.array(v.pipe(CreativeSchema, scheduleInOrder<Creative>())), v.minLength(1), v.maxLength(2000)),
});

// ---- What devices read ----------------------------------------------------------------------

/** A product a carousel may show: the device ranks them for its shopper and shows the first 2-4. */
export const CarouselItemSchema = v.object({
  id: ID,
  name: v.string(),
  brand: v.string(),
  category: v.string(),
  price: v.number(),
  listPrice: v.optional(v.nullable(v.number()), null),
  imageUrl: SAFE_URL,
  url: SAFE_URL,
  popularity: v.number(),
  gtin: v.optional(GTIN),
  mpn: v.optional(MPN),
});
export type CarouselItem = v.InferOutput<typeof CarouselItemSchema>;

/** A creative joined with its product, as the device scores and renders it. */
export const CandidateSchema = v.object({
  id: ID,
  templateId: ID,
  layout: v.picklist(LAYOUTS),
  messageType: v.picklist(MESSAGE_TYPES),
  category: v.string(),
  brand: v.string(),
  price: v.number(),
  productName: v.string(),
  /** The catalog product the creative shows (its own, or its category's most popular): what the page's product is matched to. */
  productId: v.optional(ID),
  listPrice: v.optional(v.nullable(v.number()), null),
  imageUrl: v.nullable(SAFE_URL),
  url: SAFE_URL,
  popularity: v.number(),
  /** Carousels: the in-stock products of the creative's category, most popular first (at most 8). */
  items: v.optional(v.pipe(v.array(CarouselItemSchema), v.maxLength(8)), []),
  /** The shown product's GTIN and MPN, when the catalog has them: what a page's markup may name it by. */
  gtin: v.optional(GTIN),
  mpn: v.optional(MPN),
});
export type Candidate = v.InferOutput<typeof CandidateSchema>;

/** Candidate models a config lists for evaluation on devices (each costs a device a scoring pass per decision). */
export const MAX_CANDIDATE_MODELS = 2;

export const ModelManifestSchema = v.object({
  version: MODEL_VERSION,
  specHash: v.string(),
  /** Absolute path of model.json on the edge; weights.bin sits beside it. */
  url: v.string(),
});
export type ModelManifest = v.InferOutput<typeof ModelManifestSchema>;

export const SiteConfigSchema = v.object({
  site: SITE_ID,
  reportSchema: v.literal(1),
  round: v.object({ id: v.number(), deadline: v.string(), minCohort: v.number() }),
  explorationFloor: v.number(),
  /** Eligibility, applied on the device before scoring (older edges sent neither: defaults). */
  frequencyCapPerDay: v.optional(v.number(), 3),
  excludedCategories: v.optional(v.array(v.string()), []),
  refreshSeconds: v.optional(v.number(), 300),
  attributionDays: v.optional(v.number(), DEFAULT_ATTRIBUTION_DAYS),
  /** ISO 4217 code of the prices (older edges sent none: USD). */
  currency: v.optional(v.pipe(v.string(), v.regex(/^[A-Z]{3}$/)), 'USD'),
  /** The clipping bounds a report must respect and the noise its round's release gets. */
  privacy: v.optional(
    v.object({
      headClip: v.number(),
      countClip: v.number(),
      valueUnit: v.optional(v.number(), DEFAULT_PRIVACY.valueUnit),
      opeClip: v.optional(v.number(), DEFAULT_PRIVACY.opeClip),
      towerClip: v.optional(v.number(), DEFAULT_PRIVACY.towerClip),
      offsetClip: v.optional(v.number(), DEFAULT_PRIVACY.offsetClip),
      noiseMultiplier: v.number(),
    }),
    DEFAULT_PRIVACY,
  ),
  /** The share of devices held out with the slots' own content (protocol/holdout.ts; older edges sent none: no holdout). */
  holdoutShare: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(MAX_HOLDOUT_SHARE)), 0),
  /** The parts a report carries beside its counts this round (protocol/report-parts.ts; older edges sent none: all but offsets). */
  parts: v.optional(v.array(v.picklist(MODEL_PARTS)), ['head', 'ope', 'towers']),
  templates: v.array(TemplateSchema),
  candidates: v.array(CandidateSchema),
  model: v.nullable(ModelManifestSchema),
  /**
   * Models uploaded as candidates and not yet served (the newest two): devices compute what each
   * would have chosen beside every serving decision, for the off-policy sums of their reports.
   */
  candidateModels: v.optional(v.pipe(v.array(ModelManifestSchema), v.maxLength(MAX_CANDIDATE_MODELS)), []),
});
export type SiteConfig = v.InferOutput<typeof SiteConfigSchema>;

// ---- What devices send ----------------------------------------------------------------------

/**
 * A device report: per-creative outcome counts since the last acknowledged report. No shopper
 * id, no raw events, no timestamps finer than the round. `reportId` is random per report (not
 * per device) and makes retries idempotent.
 */
export const ReportSchema = v.strictObject({
  v: v.literal(1),
  reportId: v.pipe(v.string(), v.uuid('reportId must be a UUID')),
  round: v.pipe(v.number(), v.integer(), v.minValue(0)),
  modelVersion: v.nullable(MODEL_VERSION),
  outcomes: v.pipe(
    v.array(
      v.strictObject({
        creativeId: ID,
        impressions: COUNT,
        clicks: COUNT,
        conversions: v.optional(COUNT, 0),
        dismissals: v.optional(COUNT, 0),
        /** Revenue: the order value of these conversions in units of the config's valueUnit (protocol/outcome-counts.ts). */
        value: v.optional(COUNT, 0),
      }),
    ),
    v.minLength(1),
    v.maxLength(200),
    // One entry per creative: a device's counts are bounded in L2 over its entries, so a creative
    // listed a hundred times with 1 each would pass the bound and add 100 to that creative.
    v.check((outcomes) => new Set(outcomes.map((o) => o.creativeId)).size === outcomes.length, 'outcomes name each creative at most once'),
  ),
  /**
   * The last layer's sufficient statistics over this device's shown decisions since its last
   * report, for `modelVersion`'s head: [count, upper triangle of sum phi phi^T row by row,
   * sum reward x phi], clipped on the device to the config's headClip (L2).
   */
  head: v.optional(v.strictObject({ stats: v.pipe(v.array(v.pipe(v.number(), v.finite())), v.minLength(3), v.maxLength(headStatsLength(32))) })),
  /**
   * Off-policy sums over the same decisions (protocol/off-policy.ts): one entry for
   * `modelVersion` itself, one per candidate model it evaluated, and one for the uniform random
   * policy (UNIFORM_POLICY, the baseline), [n, sum r w, sum w, sum r w^2, sum w^2], a candidate's
   * paired with the serving model's (sums of w - 1, scaled: negative values are honest there), all
   * entries together clipped to the config's opeClip (L2).
   */
  ope: v.optional(
    v.pipe(
      v.array(v.strictObject({ modelVersion: MODEL_VERSION, sums: v.pipe(v.array(v.pipe(v.number(), v.finite())), v.length(OPE_SUMS)) })),
      v.minLength(1),
      v.maxLength(2 + MAX_CANDIDATE_MODELS), // the serving model, its candidates, and the uniform random baseline
    ),
  ),
  /**
   * The gradient of `modelVersion`'s tower weights on these decisions (protocol/tower-gradient.ts),
   * clipped to the config's towerClip (L2) and quantized: one signed byte per weight, base64.
   */
  towers: v.optional(
    v.strictObject({
      scale: v.pipe(v.number(), v.finite(), v.minValue(0)),
      q: v.pipe(v.string(), v.maxLength(12_000), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'q is base64')),
    }),
  ),
  /**
   * Clicks and the clicks the serving model's head expected, per cell and per creative, over the
   * same decisions (protocol/offsets.ts), all together clipped to the config's offsetClip (L2).
   */
  offsets: v.optional(OffsetPartSchema),
  /**
   * The round's report token (protocol/report-token.ts): unlinkable to the device, spent once.
   * Optional here so that a report without one gets its own answer (401 token_required).
   */
  token: v.optional(TOKEN_TEXT),
});
export type Report = v.InferOutput<typeof ReportSchema>;

/** A report is at most 16 kB: the device leaves out its optional parts (towers, then head) to stay under it. */
export const MAX_REPORT_BYTES = 16 * 1024;

export interface ErrorBody {
  error: string;
  detail: string;
}

/** One line per failing path, for error details a developer can act on. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`)
    .join('; ');
}
