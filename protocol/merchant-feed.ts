/**
 * A Google Merchant Center product feed, the catalog every shop already keeps, read into Vitrine's
 * products: its XML (RSS 2.0 `<item>` or Atom `<entry>`, attributes in the `g:` namespace) or its
 * tab-separated text (a header row of attribute names). Each row becomes a product checked by the
 * edge's own `ProductSchema`, or a refusal naming the row's line, the feed's attribute and why:
 * nothing a merchant sends is lost without a reason. Plain text parsing (no DOM), so the trainer's
 * CLI and the dashboard read a feed the same way.
 *
 * The mapping: id, title, link, image_link, price ("89.00 USD"; a sale_price below it becomes the
 * price and the price the list price), brand, the category from product_type's first level (or
 * google_product_category's, when there is no product_type; `categoryLevel` picks another level),
 * availability ("in stock" or "in_stock"; "out of stock" is not in stock), gtin and mpn.
 */
import * as v from 'valibot';
import { describeIssues, ProductSchema } from './wire.ts';
import type { Product } from './wire.ts';

export interface FeedRefusal {
  /** The line of the feed the row starts on (1-based). */
  line: number;
  /** The feed's attribute at fault (or "row"). */
  field: string;
  reason: string;
}

export interface FeedImport {
  products: Product[];
  refused: FeedRefusal[];
}

export interface FeedOptions {
  /** The site's currency (ISO 4217): a price in another is refused. */
  currency: string;
  /** Which level of product_type (1: the first, "Apparel" in "Apparel > Shoes") is Vitrine's category. */
  categoryLevel?: number;
}

/** Vitrine's product field and the feed attribute it comes from: what a refusal names. */
const FEED_NAME: Record<string, string> = {
  id: 'id',
  name: 'title',
  url: 'link',
  imageUrl: 'image_link',
  price: 'price',
  listPrice: 'price',
  brand: 'brand',
  category: 'product_type',
  inStock: 'availability',
  gtin: 'gtin',
  mpn: 'mpn',
};

/** A feed's text: XML when it starts with a tag, else tab-separated values. */
export function parseMerchantFeed(text: string, options: FeedOptions): FeedImport {
  const rows = /^\s*</.test(text) ? xmlRows(text) : tsvRows(text);
  const out: FeedImport = { products: [], refused: [] };
  const seen = new Set<string>();
  for (const { line, fields } of rows) {
    const product = productOf(fields, options);
    if ('refusal' in product) {
      out.refused.push({ line, ...product.refusal });
      continue;
    }
    const parsed = v.safeParse(ProductSchema, product.value);
    if (!parsed.success) {
      const issue = parsed.issues[0]!;
      const key = String(v.getDotPath(issue) ?? 'row').split('.')[0]!;
      out.refused.push({ line, field: FEED_NAME[key] ?? key, reason: describeIssues([issue]).replace(/^[^:]*: /, '') });
      continue;
    }
    if (seen.has(parsed.output.id)) {
      out.refused.push({ line, field: 'id', reason: `id ${parsed.output.id} is listed twice; the first row is kept` });
      continue;
    }
    seen.add(parsed.output.id);
    out.products.push(parsed.output);
  }
  return out;
}

type Fields = Record<string, string>;

/** A feed price ("89.00 USD", "89 USD", or a bare number in the site's currency). */
function priceOf(text: string, currency: string): number | string {
  const m = /^\s*([0-9]+(?:[.,][0-9]{1,2})?)\s*([A-Za-z]{3})?\s*$/.exec(text);
  if (!m) return `"${text}" is not a price such as "89.00 ${currency}"`;
  const code = (m[2] ?? currency).toUpperCase();
  if (code !== currency) return `the price is in ${code}; the site's prices are in ${currency}`;
  return Number(m[1]!.replace(',', '.'));
}

function productOf(f: Fields, options: FeedOptions): { value: unknown } | { refusal: { field: string; reason: string } } {
  const refuse = (field: string, reason: string) => ({ refusal: { field, reason } });
  for (const required of ['id', 'title', 'link', 'image_link', 'price', 'brand'])
    if (!f[required]) return refuse(required, `${required} is required (the feed's ${required} attribute)`);
  const price = priceOf(f.price!, options.currency);
  if (typeof price === 'string') return refuse('price', price);
  let sale: number | null = null;
  if (f.sale_price) {
    const parsed = priceOf(f.sale_price, options.currency);
    if (typeof parsed === 'string') return refuse('sale_price', parsed);
    sale = parsed < price ? parsed : null;
  }
  const levels = (f.product_type || f.google_product_category || '')
    .split('>')
    .map((s) => s.trim())
    .filter(Boolean);
  const category = levels[Math.min(levels.length, options.categoryLevel ?? 1) - 1];
  if (!category) return refuse('product_type', 'a category is required: product_type (or google_product_category)');
  const availability = (f.availability ?? 'in stock').toLowerCase().replace(/_/g, ' ');
  return {
    value: {
      id: f.id,
      name: f.title,
      category,
      brand: f.brand,
      price: sale ?? price,
      ...(sale !== null ? { listPrice: price } : {}),
      imageUrl: f.image_link,
      url: f.link,
      inStock: !availability.startsWith('out of stock'),
      ...(f.gtin ? { gtin: f.gtin.replace(/[\s-]/g, '') } : {}),
      ...(f.mpn ? { mpn: f.mpn } : {}),
    },
  };
}

// ---- XML ----------------------------------------------------------------------------------

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Text content: CDATA kept as it is, entities decoded, whitespace trimmed. */
function xmlText(raw: string): string {
  return raw
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) =>
      part.startsWith('<![CDATA[')
        ? part.slice(9, -3)
        : part
            .replace(/<[^>]*>/g, '')
            .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, e: string) =>
              e[0] === '#'
                ? String.fromCodePoint(Number.parseInt(e.slice(e[1] === 'x' || e[1] === 'X' ? 2 : 1), e[1] === 'x' || e[1] === 'X' ? 16 : 10))
                : (ENTITIES[e.toLowerCase()] ?? whole),
            ),
    )
    .join('')
    .trim();
}

function xmlRows(feed: string): { line: number; fields: Fields }[] {
  // Comments out (their newlines kept, so lines still count): a comment may mention <item>.
  const text = feed.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '));
  const rows: { line: number; fields: Fields }[] = [];
  const item = /<(item|entry)\b[^>]*>([\s\S]*?)<\/\1\s*>/g;
  for (let m = item.exec(text); m; m = item.exec(text)) {
    const fields: Fields = {};
    const field = /<(?:g:)?([a-z_]+)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:g:)?\1\s*>)/gi;
    for (let f = field.exec(m[2]!); f; f = field.exec(m[2]!)) {
      const name = f[1]!.toLowerCase();
      // Atom's <link href="..."/>; RSS's <link>...</link> and g:link alike.
      const value = f[3] === undefined ? (/href\s*=\s*"([^"]*)"/.exec(f[2]!)?.[1] ?? '') : xmlText(f[3]);
      if (value && !(name in fields)) fields[name] = value;
    }
    rows.push({ line: text.slice(0, m.index).split('\n').length, fields });
  }
  return rows;
}

// ---- TSV ----------------------------------------------------------------------------------

function tsvRows(text: string): { line: number; fields: Fields }[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split('\t').map((h) => h.trim().toLowerCase().replace(/^g:/, ''));
  return lines.slice(1).flatMap((row, i) => {
    if (!row.trim()) return [];
    const cells = row.split('\t');
    return [{ line: i + 2, fields: Object.fromEntries(header.map((h, k) => [h, (cells[k] ?? '').trim().replace(/^"(.*)"$/, '$1')])) }];
  });
}
