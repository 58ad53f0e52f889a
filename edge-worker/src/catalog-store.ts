/**
 * D1 access for a site's catalog, templates and creatives: upserts, deletes, what the config
 * serves (`listCandidates`: active creatives within their schedule, their product in stock,
 * carousels with their items), what the admin API lists, the creative ids and offsets keys a
 * release lists. Small typed functions, one statement (or one batch) each.
 */
import { LAYOUT_TRAITS } from '../../protocol/catalog.ts';
import { cellOf } from '../../protocol/offsets.ts';
import type { Candidate, Creative, Product, Template } from '../../protocol/wire.ts';
import { servedNow } from '../../protocol/wire.ts';

export async function upsertProducts(db: D1Database, site: string, products: Product[]): Promise<void> {
  const stmt = db.prepare(
    `INSERT INTO products (site, id, name, category, brand, price, image_url, url, in_stock, popularity, list_price, gtin, mpn)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
     ON CONFLICT (site, id) DO UPDATE SET name = ?3, category = ?4, brand = ?5, price = ?6, image_url = ?7,
       url = ?8, in_stock = ?9, popularity = ?10, list_price = ?11, gtin = ?12, mpn = ?13`,
  );
  await db.batch(
    products.map((p) =>
      stmt.bind(
        site,
        p.id,
        p.name,
        p.category,
        p.brand,
        p.price,
        p.imageUrl,
        p.url,
        p.inStock ? 1 : 0,
        p.popularity,
        p.listPrice ?? null,
        p.gtin ?? null,
        p.mpn ?? null,
      ),
    ),
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
    `INSERT INTO creatives (site, id, template_id, product_id, category, message_type, status, starts_at, ends_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
     ON CONFLICT (site, id) DO UPDATE SET template_id = ?3, product_id = ?4, category = ?5, message_type = ?6, status = ?7, starts_at = ?8, ends_at = ?9`,
  );
  const instant = (iso: string | undefined) => (iso ? Date.parse(iso) : null);
  await db.batch(
    creatives.map((c) =>
      stmt.bind(site, c.id, c.templateId, c.productId, c.category ?? null, c.messageType, c.status ?? 'active', instant(c.startsAt), instant(c.endsAt)),
    ),
  );
}

/** Deletes a creative; false when the site has none of that id. */
export async function deleteCreative(db: D1Database, site: string, id: string): Promise<boolean> {
  const { meta } = await db.prepare('DELETE FROM creatives WHERE site = ? AND id = ?').bind(site, id).run();
  return meta.changes > 0;
}

/** The creatives that use a template or show a product (what deleting it would break). */
export async function creativesUsing(db: D1Database, site: string, what: { templateId?: string; productId?: string }): Promise<string[]> {
  const { results } = await db
    .prepare('SELECT id FROM creatives WHERE site = ?1 AND (template_id = ?2 OR product_id = ?3) ORDER BY id')
    .bind(site, what.templateId ?? null, what.productId ?? null)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** Deletes a template or a product no creative uses; false when the site has none of that id. */
export async function deleteUnused(db: D1Database, site: string, table: 'templates' | 'products', id: string): Promise<boolean> {
  const { meta } = await db.prepare(`DELETE FROM ${table} WHERE site = ? AND id = ?`).bind(site, id).run();
  return meta.changes > 0;
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
/** The creatives devices may be shown `now`: they and their template active and within their schedules, their product in stock. */
export async function listCandidates(db: D1Database, site: string, now = Date.now()): Promise<Candidate[]> {
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
              COALESCE(p.popularity, best.popularity, 0) AS popularity,
              COALESCE(p.id, best.id) AS product_id,
              COALESCE(p.gtin, best.gtin) AS gtin,
              COALESCE(p.mpn, best.mpn) AS mpn
       FROM creatives c
       JOIN templates t ON t.site = c.site AND t.id = c.template_id
       LEFT JOIN products p ON p.site = c.site AND p.id = c.product_id
       LEFT JOIN products best ON c.product_id IS NULL AND best.site = c.site AND best.id = (
         SELECT id FROM products WHERE site = c.site AND category = c.category AND in_stock = 1
         ORDER BY popularity DESC, id LIMIT 1)
       WHERE c.site = ?1 AND (p.id IS NULL OR p.in_stock = 1) AND COALESCE(p.url, best.url) IS NOT NULL
         AND c.status = 'active' AND (c.starts_at IS NULL OR c.starts_at <= ?2) AND (c.ends_at IS NULL OR c.ends_at > ?2)
       ORDER BY c.id`,
    )
    .bind(site, now)
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
      product_id: string | null;
      gtin: string | null;
      mpn: string | null;
    }>();
  // A paused or unscheduled template holds back every creative made from it (its life is in its JSON body).
  const served = results.flatMap((r) => {
    const template = JSON.parse(r.template) as Template;
    return servedNow(template, now) ? [{ ...r, layout: template.layout }] : [];
  });
  const candidates: Candidate[] = served.map((r) => ({
    id: r.id,
    templateId: r.template_id,
    layout: r.layout,
    messageType: r.message_type,
    category: r.category,
    brand: r.brand,
    price: r.price,
    listPrice: r.list_price,
    productName: r.product_name,
    imageUrl: r.image_url,
    url: r.url,
    popularity: r.popularity,
    ...(r.product_id ? { productId: r.product_id } : {}),
    ...identifiers(r),
    items: [],
  }));
  await attachCarouselItems(db, site, candidates);
  return candidates;
}

/** A product's GTIN and MPN as the config carries them: only those it has. */
const identifiers = (r: { gtin: string | null; mpn: string | null }) => ({ ...(r.gtin ? { gtin: r.gtin } : {}), ...(r.mpn ? { mpn: r.mpn } : {}) });

/** Carousels get the in-stock products of their category (all categories without one), most popular first. */
async function attachCarouselItems(db: D1Database, site: string, candidates: Candidate[]): Promise<void> {
  const carousels = candidates.filter((c) => LAYOUT_TRAITS[c.layout].items);
  if (carousels.length === 0) return;
  const { results } = await db
    .prepare(
      'SELECT id, name, brand, category, price, list_price, image_url, url, popularity, gtin, mpn FROM products WHERE site = ? AND in_stock = 1 ORDER BY popularity DESC, id',
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
      gtin: string | null;
      mpn: string | null;
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
    ...identifiers(r),
  }));
  for (const c of carousels) c.items = items.filter((i) => !c.category || i.category === c.category).slice(0, 8);
}

/** Every creative id of the site (a release lists them all, zeros included). */
export async function listCreativeIds(db: D1Database, site: string): Promise<string[]> {
  const { results } = await db.prepare('SELECT id FROM creatives WHERE site = ? ORDER BY id').bind(site).all<{ id: string }>();
  return results.map((r) => r.id);
}

/** The site's products and creatives as the merchant uploaded them (the dashboard's catalog view). */
export async function listCatalog(db: D1Database, site: string): Promise<{ products: Product[]; creatives: Creative[] }> {
  const [products, creatives] = await Promise.all([
    db
      .prepare('SELECT id, name, category, brand, price, list_price, image_url, url, in_stock, popularity, gtin, mpn FROM products WHERE site = ? ORDER BY id')
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
        gtin: string | null;
        mpn: string | null;
      }>(),
    db
      .prepare('SELECT id, template_id, product_id, category, message_type, status, starts_at, ends_at FROM creatives WHERE site = ? ORDER BY id')
      .bind(site)
      .all<{
        id: string;
        template_id: string;
        product_id: string | null;
        category: string | null;
        message_type: Creative['messageType'];
        status: 'active' | 'paused';
        starts_at: number | null;
        ends_at: number | null;
      }>(),
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
      ...identifiers(p),
    })),
    creatives: creatives.results.map((c) => ({
      id: c.id,
      templateId: c.template_id,
      productId: c.product_id,
      ...(c.category ? { category: c.category } : {}),
      messageType: c.message_type,
      status: c.status,
      ...(c.starts_at !== null ? { startsAt: new Date(c.starts_at).toISOString() } : {}),
      ...(c.ends_at !== null ? { endsAt: new Date(c.ends_at).toISOString() } : {}),
    })),
  };
}

/**
 * The keys of an offsets part the site's catalog allows (protocol/offsets.ts): `cell:<layout>/<messageType>`
 * for every cell its creatives fall in, and `creative:<id>` for each creative, sorted: the fixed
 * shape of every release of the part.
 */
export async function offsetKeys(db: D1Database, site: string): Promise<string[]> {
  const { results } = await db
    .prepare('SELECT c.id, c.message_type, t.body FROM creatives c JOIN templates t ON t.site = c.site AND t.id = c.template_id WHERE c.site = ?')
    .bind(site)
    .all<{ id: string; message_type: string; body: string }>();
  const cells = new Set(results.map((r) => `cell:${cellOf({ layout: (JSON.parse(r.body) as Template).layout, messageType: r.message_type })}`));
  return [...cells, ...results.map((r) => `creative:${r.id}`)].sort();
}
