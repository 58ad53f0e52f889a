/**
 * D1 access for sites and their catalog, templates and creatives: small typed functions, one
 * statement (or one batch) each.
 */
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { Candidate, Creative, Product, SiteSettings, Template } from '../../protocol/wire.ts';
import type { SiteAnswer } from '../../protocol/admin-answers.ts';

/** A site's settings as stored, defaults filled in: what the admin API answers (protocol/admin-answers.ts). */
export type SiteRow = SiteAnswer;

export async function getSite(db: D1Database, site: string): Promise<SiteRow | null> {
  const row = await db
    .prepare(
      `SELECT id, name, allowed_origins, min_cohort, round_seconds, exploration_floor, frequency_cap_per_day,
              excluded_categories, config_refresh_seconds, epsilon_budget, noise_multiplier, attribution_days, head_clip, currency, budget_period_days, tokens_per_address, round_shards, ope_clip
       FROM sites WHERE id = ?`,
    )
    .bind(site)
    .first<{
      id: string;
      name: string;
      allowed_origins: string;
      min_cohort: number;
      round_seconds: number;
      exploration_floor: number;
      frequency_cap_per_day: number;
      excluded_categories: string;
      config_refresh_seconds: number;
      epsilon_budget: number;
      noise_multiplier: number;
      attribution_days: number;
      head_clip: number;
      currency: string;
      budget_period_days: number;
      tokens_per_address: number;
      round_shards: number;
      ope_clip: number;
    }>();
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    allowedOrigins: JSON.parse(row.allowed_origins) as string[],
    minCohort: row.min_cohort,
    roundSeconds: row.round_seconds,
    explorationFloor: row.exploration_floor,
    frequencyCapPerDay: row.frequency_cap_per_day,
    excludedCategories: JSON.parse(row.excluded_categories) as string[],
    configRefreshSeconds: row.config_refresh_seconds,
    epsilonBudget: row.epsilon_budget,
    noiseMultiplier: row.noise_multiplier,
    attributionDays: row.attribution_days,
    headClip: row.head_clip,
    currency: row.currency,
    budgetPeriodDays: row.budget_period_days,
    tokensPerAddress: row.tokens_per_address,
    roundShards: row.round_shards,
    opeClip: row.ope_clip,
  };
}

export async function upsertSite(db: D1Database, site: string, s: SiteSettings): Promise<void> {
  await db
    .prepare(
      `INSERT INTO sites (id, name, allowed_origins, min_cohort, round_seconds, exploration_floor, updated_at,
                          frequency_cap_per_day, excluded_categories, config_refresh_seconds, epsilon_budget, noise_multiplier, attribution_days, head_clip, currency, budget_period_days, tokens_per_address, round_shards, ope_clip)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
       ON CONFLICT (id) DO UPDATE SET name = ?2, allowed_origins = ?3, min_cohort = ?4, round_seconds = ?5,
         exploration_floor = ?6, updated_at = ?7, frequency_cap_per_day = ?8, excluded_categories = ?9,
         config_refresh_seconds = ?10, epsilon_budget = ?11, noise_multiplier = ?12, attribution_days = ?13, head_clip = ?14, currency = ?15, budget_period_days = ?16, tokens_per_address = ?17, round_shards = ?18, ope_clip = ?19`,
    )
    .bind(
      site,
      s.name,
      JSON.stringify(s.allowedOrigins),
      s.minCohort,
      s.roundSeconds,
      s.explorationFloor,
      new Date().toISOString(),
      s.frequencyCapPerDay,
      JSON.stringify(s.excludedCategories),
      s.configRefreshSeconds,
      s.epsilonBudget,
      s.noiseMultiplier,
      s.attributionDays,
      s.headClip,
      s.currency,
      s.budgetPeriodDays,
      s.tokensPerAddress,
      s.roundShards,
      s.opeClip,
    )
    .run();
}

export async function upsertProducts(db: D1Database, site: string, products: Product[]): Promise<void> {
  const stmt = db.prepare(
    `INSERT INTO products (site, id, name, category, brand, price, image_url, url, in_stock, popularity, list_price)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (site, id) DO UPDATE SET name = ?3, category = ?4, brand = ?5, price = ?6, image_url = ?7,
       url = ?8, in_stock = ?9, popularity = ?10, list_price = ?11`,
  );
  await db.batch(
    products.map((p) => stmt.bind(site, p.id, p.name, p.category, p.brand, p.price, p.imageUrl, p.url, p.inStock ? 1 : 0, p.popularity, p.listPrice ?? null)),
  );
}

export async function upsertTemplates(db: D1Database, site: string, templates: Template[]): Promise<void> {
  const stmt = db.prepare('INSERT INTO templates (site, id, body) VALUES (?1, ?2, ?3) ON CONFLICT (site, id) DO UPDATE SET body = ?3');
  await db.batch(templates.map((t) => stmt.bind(site, t.id, JSON.stringify(t))));
}

/** Names of referenced templates or products that do not exist for the site. */
export async function missingReferences(db: D1Database, site: string, creatives: Creative[]): Promise<string[]> {
  const templates = new Set((await db.prepare('SELECT id FROM templates WHERE site = ?').bind(site).all<{ id: string }>()).results.map((r) => r.id));
  const products = new Set((await db.prepare('SELECT id FROM products WHERE site = ?').bind(site).all<{ id: string }>()).results.map((r) => r.id));
  const missing: string[] = [];
  creatives.forEach((c, i) => {
    if (!templates.has(c.templateId)) missing.push(`creatives.${i}.templateId: unknown template ${c.templateId}`);
    if (c.productId !== null && !products.has(c.productId)) missing.push(`creatives.${i}.productId: unknown product ${c.productId}`);
    if (c.productId === null && !c.category) missing.push(`creatives.${i}.category: required when productId is null`);
  });
  return missing;
}

export async function upsertCreatives(db: D1Database, site: string, creatives: Creative[]): Promise<void> {
  const stmt = db.prepare(
    `INSERT INTO creatives (site, id, template_id, product_id, category, message_type) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (site, id) DO UPDATE SET template_id = ?3, product_id = ?4, category = ?5, message_type = ?6`,
  );
  await db.batch(creatives.map((c) => stmt.bind(site, c.id, c.templateId, c.productId, c.category ?? null, c.messageType)));
}

export async function listTemplates(db: D1Database, site: string): Promise<Template[]> {
  const { results } = await db.prepare('SELECT body FROM templates WHERE site = ? ORDER BY id').bind(site).all<{ body: string }>();
  return results.map((r) => JSON.parse(r.body) as Template);
}

/**
 * Creatives joined with their product and template layout. Out-of-stock products are left out
 * here, so a device never even sees an ineligible candidate. A creative without a product
 * (banner, text) takes the category's most popular in-stock product for its picture and link.
 */
export async function listCandidates(db: D1Database, site: string): Promise<Candidate[]> {
  const { results } = await db
    .prepare(
      `SELECT c.id, c.template_id, c.message_type, t.body AS template,
              COALESCE(p.category, c.category) AS category,
              COALESCE(p.brand, best.brand, '') AS brand,
              COALESCE(p.price, best.price, 0) AS price,
              COALESCE(p.list_price, best.list_price) AS list_price,
              COALESCE(p.name, best.name, '') AS product_name,
              COALESCE(p.image_url, best.image_url) AS image_url,
              COALESCE(p.url, best.url) AS url,
              COALESCE(p.popularity, best.popularity, 0) AS popularity
       FROM creatives c
       JOIN templates t ON t.site = c.site AND t.id = c.template_id
       LEFT JOIN products p ON p.site = c.site AND p.id = c.product_id
       LEFT JOIN products best ON c.product_id IS NULL AND best.site = c.site AND best.id = (
         SELECT id FROM products WHERE site = c.site AND category = c.category AND in_stock = 1
         ORDER BY popularity DESC, id LIMIT 1)
       WHERE c.site = ?1 AND (p.id IS NULL OR p.in_stock = 1) AND COALESCE(p.url, best.url) IS NOT NULL
       ORDER BY c.id`,
    )
    .bind(site)
    .all<{
      id: string;
      template_id: string;
      message_type: Candidate['messageType'];
      template: string;
      category: string;
      brand: string;
      price: number;
      list_price: number | null;
      product_name: string;
      image_url: string | null;
      url: string;
      popularity: number;
    }>();
  const candidates: Candidate[] = results.map((r) => ({
    id: r.id,
    templateId: r.template_id,
    layout: (JSON.parse(r.template) as Template).layout,
    messageType: r.message_type,
    category: r.category,
    brand: r.brand,
    price: r.price,
    listPrice: r.list_price,
    productName: r.product_name,
    imageUrl: r.image_url,
    url: r.url,
    popularity: r.popularity,
    items: [],
  }));
  await attachCarouselItems(db, site, candidates);
  return candidates;
}

/** Carousels get the in-stock products of their category (all categories without one), most popular first. */
async function attachCarouselItems(db: D1Database, site: string, candidates: Candidate[]): Promise<void> {
  const carousels = candidates.filter((c) => c.layout === 'carousel');
  if (carousels.length === 0) return;
  const { results } = await db
    .prepare(
      'SELECT id, name, brand, category, price, list_price, image_url, url, popularity FROM products WHERE site = ? AND in_stock = 1 ORDER BY popularity DESC, id',
    )
    .bind(site)
    .all<{
      id: string;
      name: string;
      brand: string;
      category: string;
      price: number;
      list_price: number | null;
      image_url: string;
      url: string;
      popularity: number;
    }>();
  const items = results.map((r) => ({
    id: r.id,
    name: r.name,
    brand: r.brand,
    category: r.category,
    price: r.price,
    listPrice: r.list_price,
    imageUrl: r.image_url,
    url: r.url,
    popularity: r.popularity,
  }));
  for (const c of carousels) c.items = items.filter((i) => !c.category || i.category === c.category).slice(0, 8);
}

/** Every creative id of the site (a release lists them all, zeros included). */
export async function listCreativeIds(db: D1Database, site: string): Promise<string[]> {
  const { results } = await db.prepare('SELECT id FROM creatives WHERE site = ? ORDER BY id').bind(site).all<{ id: string }>();
  return results.map((r) => r.id);
}

/** The privacy terms a site's reports are clipped to and its releases noised with. */
export function sitePrivacy(site: SiteRow): PrivacyTerms {
  return { ...DEFAULT_PRIVACY, noiseMultiplier: site.noiseMultiplier, headClip: site.headClip, opeClip: site.opeClip };
}

/** The site's products and creatives as the merchant uploaded them (the dashboard's catalog view). */
export async function listCatalog(db: D1Database, site: string): Promise<{ products: Product[]; creatives: Creative[] }> {
  const [products, creatives] = await Promise.all([
    db
      .prepare('SELECT id, name, category, brand, price, list_price, image_url, url, in_stock, popularity FROM products WHERE site = ? ORDER BY id')
      .bind(site)
      .all<{
        id: string;
        name: string;
        category: string;
        brand: string;
        price: number;
        list_price: number | null;
        image_url: string;
        url: string;
        in_stock: number;
        popularity: number;
      }>(),
    db
      .prepare('SELECT id, template_id, product_id, category, message_type FROM creatives WHERE site = ? ORDER BY id')
      .bind(site)
      .all<{ id: string; template_id: string; product_id: string | null; category: string | null; message_type: Creative['messageType'] }>(),
  ]);
  return {
    products: products.results.map((p) => ({
      id: p.id,
      name: p.name,
      category: p.category,
      brand: p.brand,
      price: p.price,
      ...(p.list_price !== null ? { listPrice: p.list_price } : {}),
      imageUrl: p.image_url,
      url: p.url,
      inStock: p.in_stock === 1,
      popularity: p.popularity,
    })),
    creatives: creatives.results.map((c) => ({
      id: c.id,
      templateId: c.template_id,
      productId: c.product_id,
      ...(c.category ? { category: c.category } : {}),
      messageType: c.message_type,
    })),
  };
}
