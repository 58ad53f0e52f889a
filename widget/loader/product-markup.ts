/**
 * The product a page describes, from the markup storefront platforms really emit: schema.org
 * JSON-LD (anywhere in `@graph`, arrays or nested nodes; `Product` and `ProductGroup`; `@type`
 * as a string, an array or a full URL; `Offer`, `AggregateOffer`, offer arrays and
 * `priceSpecification`; prices as numbers or strings), microdata and RDFa. WooCommerce nests its
 * Product in `@graph` with an AggregateOffer on variable products; Shopify's `structured_data`
 * emits a ProductGroup with `hasVariant`; many shops leave `sku` empty and identify a product by
 * a GTIN, an MPN, an `@id` or its URL. Every identifier found is kept (`ids`), so the engine can
 * match whichever one the catalog carries.
 *
 * A merchant's malformed JSON-LD (comments, CDATA wrappers, trailing braces, raw control
 * characters) is repaired where it can be and skipped where it cannot: it never throws into the
 * page, and the next source is read.
 */

export interface PageProduct {
  /** The first identifier found (sku, productID, gtin, mpn, @id, url, in that order). */
  id: string;
  /** Every identifier the markup carries, `id` first (at most 8). */
  ids: string[];
  name: string;
  category: string;
  brand: string;
  price: number;
}

type Node = Record<string, unknown>;

const MAX_IDS = 8;
const MAX_NODES = 2000;
const ID_KEYS = ['sku', 'productID', 'gtin', 'gtin13', 'gtin12', 'gtin14', 'gtin8', 'mpn', '@id', 'url'] as const;

/** "Product", "schema:Product", "https://schema.org/Product" and ["Product", "Thing"] all name Product. */
export function typeNames(node: Node): string[] {
  const t = node['@type'] ?? node.type;
  const list = Array.isArray(t) ? t : [t];
  return list.filter((x): x is string => typeof x === 'string').map((x) => x.replace(/^.*[/#:]/, ''));
}

function isType(node: Node, ...names: string[]): boolean {
  return typeNames(node).some((t) => names.includes(t));
}

function text(value: unknown): string {
  if (typeof value === 'string') return value.trim().slice(0, 200);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return text(value[0]);
  if (value && typeof value === 'object') {
    const o = value as Node;
    return text(o.name ?? o['@value'] ?? o['@id']);
  }
  return '';
}

/**
 * A price as a number: 19.9, "19.90", "$1,299.00", "1.299,00 €", "19,90". Where both a comma and
 * a dot appear the later one is the decimal separator; a lone comma followed by exactly three
 * digits groups thousands ("1,299"), otherwise it is decimal ("19,90").
 */
export function parsePrice(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  let s = value.replace(/[^\d.,]/g, '');
  if (!/\d/.test(s)) return null;
  const comma = s.lastIndexOf(',');
  const dot = s.lastIndexOf('.');
  if (comma >= 0 && dot >= 0) s = comma > dot ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  else if (comma >= 0) s = /^\d{1,3}(,\d{3})+$/.test(s) ? s.replace(/,/g, '') : s.replace(/,/g, '.');
  else if ((s.match(/\./g) ?? []).length > 1) s = s.replace(/\./g, ''); // "1.299.000"
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** The price of an offer or of a list of them: price, lowPrice (AggregateOffer) or a priceSpecification's. */
function offerPrice(offers: unknown): number | null {
  for (const offer of Array.isArray(offers) ? offers : [offers]) {
    if (!offer || typeof offer !== 'object') continue;
    const o = offer as Node;
    const direct = parsePrice(o.price) ?? parsePrice(o.lowPrice);
    if (direct !== null) return direct;
    const spec = offerPrice(o.priceSpecification);
    if (spec !== null) return spec;
    const nested = o.offers ? offerPrice(o.offers) : null;
    if (nested !== null) return nested;
  }
  return null;
}

function identifiers(node: Node, pageUrl: string): string[] {
  const ids: string[] = [];
  for (const key of ID_KEYS) {
    let id = text(node[key]);
    if (!id) continue;
    if (key === '@id' || key === 'url') id = absolute(id, pageUrl);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids.slice(0, MAX_IDS);
}

function absolute(url: string, base: string): string {
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

function productFrom(node: Node, pageUrl: string, group?: Node): PageProduct | null {
  const ids = identifiers(node, pageUrl);
  if (group) for (const id of identifiers(group, pageUrl)) if (!ids.includes(id) && ids.length < MAX_IDS) ids.push(id);
  if (ids.length === 0) return null;
  const field = (key: string) => text(node[key]) || (group ? text(group[key]) : '');
  const category = field('category');
  return {
    id: ids[0]!,
    ids,
    name: field('name'),
    // "Apparel > Shoes > Sneakers": the most specific part.
    category:
      category
        .split(/\s*[>/|]\s*/)
        .filter(Boolean)
        .pop() ?? '',
    brand: field('brand'),
    price: offerPrice(node.offers) ?? (group ? offerPrice(group.offers) : null) ?? 0,
  };
}

/**
 * A ProductGroup's product: the variant the page's URL names (Shopify's `?variant=ID`, a
 * variant's own url, or its sku in the query), else the group itself.
 */
function fromGroup(group: Node, pageUrl: string): PageProduct | null {
  const variants = (Array.isArray(group.hasVariant) ? group.hasVariant : [group.hasVariant]).filter((v): v is Node => !!v && typeof v === 'object');
  let url: URL | null = null;
  try {
    url = new URL(pageUrl);
  } catch {
    // no URL to match a variant with
  }
  const named = url?.searchParams.get('variant');
  const variantOf = (id: string) => {
    try {
      return new URL(id, pageUrl).searchParams.get('variant');
    } catch {
      return null;
    }
  };
  const chosen = variants.find((v) => {
    const ids = [...identifiers(v, pageUrl), text((v.offers as Node | undefined)?.url)].filter(Boolean);
    if (named && ids.some((id) => id === named || variantOf(id) === named)) return true;
    const own = text(v.url);
    if (own && url && absolute(own, pageUrl) === url.href) return true;
    return !!url && ids.some((id) => id.length > 2 && [...url!.searchParams.values()].includes(id));
  });
  if (chosen) return productFrom(chosen, pageUrl, group);
  const self = productFrom({ ...group, sku: group.sku ?? group.productGroupID }, pageUrl);
  return self ?? (variants[0] ? productFrom(variants[0], pageUrl, group) : null);
}

/** Every node of a JSON-LD document, depth first (bounded: a page's JSON-LD is never trusted to be small). */
function* nodes(data: unknown, budget = { left: MAX_NODES }): Generator<Node> {
  if (budget.left-- <= 0 || !data || typeof data !== 'object') return;
  if (Array.isArray(data)) {
    for (const item of data) yield* nodes(item, budget);
    return;
  }
  const node = data as Node;
  yield node;
  for (const [key, value] of Object.entries(node)) {
    // A ProductGroup's variants are read with their group; offers are read with their product.
    if (key === 'hasVariant' || key === 'offers') continue;
    if (value && typeof value === 'object') yield* nodes(value, budget);
  }
}

/** JSON.parse, then the repairs merchants' templates need: comments, CDATA, control characters, trailing braces. */
export function parseLenientJson(source: string): unknown {
  try {
    return JSON.parse(source);
  } catch {
    // repaired below
  }
  let s = source
    .trim()
    .replace(/^\s*<!\[CDATA\[/, '')
    .replace(/\]\]>\s*$/, '')
    .replace(/^\s*<!--/, '')
    .replace(/-->\s*$/, '');
  s = stripComments(s)
    .split('')
    .map((c) => (c.charCodeAt(0) < 32 ? ' ' : c)) // raw newlines and tabs inside strings
    .join('')
    .replace(/,\s*([}\]])/g, '$1');
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      return JSON.parse(s);
    } catch {
      // one brace too many, or text after the document: cut back to the last closing bracket before it
      const end = Math.max(s.lastIndexOf('}', s.length - 2), s.lastIndexOf(']', s.length - 2));
      if (end <= 0) return undefined;
      s = s.slice(0, end + 1);
    }
  }
  return undefined;
}

/** Removes // and block comments outside strings. */
function stripComments(s: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += s[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && s[i + 1] === '/') {
      while (i < s.length && s[i] !== '\n') i++;
    } else if (c === '/' && s[i + 1] === '*') {
      i = s.indexOf('*/', i + 2);
      if (i < 0) break;
      i++;
    } else out += c;
  }
  return out;
}

/** The product the page's JSON-LD describes, if any. */
export function productFromJsonLd(doc: Document, pageUrl = doc.location?.href ?? ''): PageProduct | null {
  for (const script of doc.querySelectorAll('script[type="application/ld+json"]')) {
    const data = parseLenientJson(script.textContent ?? '');
    for (const node of nodes(data)) {
      if (isType(node, 'ProductGroup')) {
        const p = fromGroup(node, pageUrl);
        if (p) return p;
      } else if (isType(node, 'Product', 'IndividualProduct', 'ProductModel', 'SomeProducts')) {
        const p = productFrom(node, pageUrl);
        if (p) return p;
      }
    }
  }
  return null;
}

/** A property's value inside an element: content, value, datetime, href/src or the text (microdata and RDFa alike). */
function propertyValue(el: Element): string {
  const raw =
    el.getAttribute('content') ??
    el.getAttribute('value') ??
    (el.hasAttribute('itemscope') || el.hasAttribute('typeof') ? null : (el.getAttribute('href') ?? el.getAttribute('src'))) ??
    el.textContent ??
    '';
  return raw.trim().replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * A microdata or RDFa item as a JSON-LD-like node: each property's first value, nested items
 * (offers, brand) as nodes of their own. Properties of items nested inside belong to them, not
 * to this one.
 */
function itemNode(root: Element, scopeAttr: 'itemscope' | 'typeof', propAttr: 'itemprop' | 'property'): Node {
  const node: Node = {};
  const walk = (el: Element) => {
    for (const child of el.children) {
      const names = (child.getAttribute(propAttr) ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((n) => n.replace(/^.*[/#:]/, ''));
      const nested = child.hasAttribute(scopeAttr);
      for (const name of names) {
        if (name in node) continue;
        node[name] = nested ? itemNode(child, scopeAttr, propAttr) : propertyValue(child);
      }
      if (!nested) walk(child);
    }
  };
  walk(root);
  return node;
}

/** The first element `selector` finds typed (by `typeAttr`) Product or ProductGroup whose properties (`read`) make a product. */
function firstTypedProduct(doc: Document, selector: string, typeAttr: string, read: (root: Element) => Node, pageUrl: string): PageProduct | null {
  for (const root of doc.querySelectorAll(selector)) {
    const types = (root.getAttribute(typeAttr) ?? '').split(/\s+/).map((t) => t.replace(/^.*[/#:]/, ''));
    if (!types.some((t) => t === 'Product' || t === 'ProductGroup')) continue;
    const p = productFrom(read(root), pageUrl);
    if (p) return p;
  }
  return null;
}

/** The product described by microdata (itemscope itemtype=".../Product" or ProductGroup). */
export function productFromMicrodata(doc: Document, pageUrl = doc.location?.href ?? ''): PageProduct | null {
  return firstTypedProduct(doc, '[itemscope][itemtype]', 'itemtype', (root) => itemNode(root, 'itemscope', 'itemprop'), pageUrl);
}

/** The product described by RDFa (typeof="schema:Product" or vocab="https://schema.org/" typeof="Product"). */
export function productFromRdfa(doc: Document, pageUrl = doc.location?.href ?? ''): PageProduct | null {
  return firstTypedProduct(
    doc,
    '[typeof]',
    'typeof',
    (root) => {
      const node = itemNode(root, 'typeof', 'property');
      if (!node['@id'] && root.getAttribute('resource')) node['@id'] = root.getAttribute('resource');
      return node;
    },
    pageUrl,
  );
}
