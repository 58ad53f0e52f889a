/**
 * Catalog and templates: the products and creatives as uploaded (creatives paused, resumed and
 * deleted in creatives-panel.tsx; a Merchant Center feed imported in feed-import-panel.tsx), and template editing with
 * validation (the same schema the edge checks) and a live preview rendered by the widget's own
 * components in a shadow root with the widget's stylesheet.
 */
import { LAYOUT_TRAITS } from '../../protocol/catalog.ts';
import { h, render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import * as v from 'valibot';
import { describeIssues, TemplateSchema } from '../../protocol/wire.ts';
import type { Candidate, Creative, Product, Template } from '../../protocol/wire.ts';
import { formatPrice } from '../../widget/render/money.ts';
import type { Decision } from '../../widget/engine/engine-api.ts';
import { CREATIVE_CSS } from '../../widget/render/creative-styles.ts';
import { CreativeView } from '../../widget/render/creative-view.tsx';
import type { AdminApi } from '../admin-api.ts';
import { CreativesPanel } from './creatives-panel.tsx';
import { FeedImportPanel } from './feed-import-panel.tsx';

/** Site-relative image and link URLs point at the storefront, not at the edge the dashboard is on. */
function onStorefront(products: Product[], storefront: string | null): Product[] {
  const absolute = (u: string) => (storefront && u.startsWith('/') ? `${storefront}${u}` : u);
  return products.map((p) => ({ ...p, imageUrl: absolute(p.imageUrl), url: absolute(p.url) }));
}

function previewDecision(template: Template, allProducts: Product[], storefront: string | null, currency: string): Decision {
  const products = onStorefront(allProducts, storefront);
  const p = products[0]!;
  const candidate: Candidate = {
    id: 'preview',
    templateId: template.id,
    layout: template.layout,
    messageType: 'personal',
    category: p.category,
    brand: p.brand,
    price: p.price,
    listPrice: p.listPrice ?? null,
    productName: p.name,
    imageUrl: p.imageUrl,
    url: p.url,
    popularity: p.popularity,
    items: [],
  };
  const items = products
    .filter((x) => x.category === p.category)
    .slice(0, 4)
    .map((x) => ({
      id: x.id,
      name: x.name,
      brand: x.brand,
      category: x.category,
      price: x.price,
      listPrice: x.listPrice ?? null,
      imageUrl: x.imageUrl,
      url: x.url,
      popularity: x.popularity,
    }));
  const first = (xs: string[] | undefined) => (xs ? [xs[0]!] : undefined);
  return {
    id: 'preview',
    slot: 'preview',
    candidate,
    template: { ...template, headline: first(template.headline)!, body: first(template.body) ?? [''], cta: first(template.cta)!, badge: first(template.badge) },
    items: LAYOUT_TRAITS[template.layout].items ? items : [],
    propensity: 1,
    modelVersion: null,
    currency,
    // A preview has no shopper: it shows the sentence a shopper exploring would read.
    why: { kind: 'explore' },
  };
}

function Preview({ decision }: { decision: Decision }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const root = host.current!.shadowRoot ?? host.current!.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CREATIVE_CSS);
    root.adoptedStyleSheets = [sheet];
    render(h(CreativeView, { decision, onActivate: (e: MouseEvent) => e.preventDefault(), onNotInterested: () => undefined }), root);
  }, [decision]);
  return <div class="preview" ref={host} data-preview />;
}

export function CatalogView({
  api,
  products,
  creatives,
  templates,
  storefront,
  currency,
  onSaved,
}: {
  api: AdminApi;
  products: Product[];
  creatives: Creative[];
  templates: Template[];
  storefront: string | null;
  currency: string;
  onSaved: (what: string) => void;
}) {
  const [editing, setEditing] = useState<string | null>(templates[0]?.id ?? null);
  const current = templates.find((t) => t.id === editing) ?? null;
  const [text, setText] = useState(current ? JSON.stringify(current, null, 2) : '');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setText(current ? JSON.stringify(current, null, 2) : '');
    setProblem(null);
  }, [editing]);
  if (products.length === 0 && templates.length === 0) {
    return (
      <section class="empty" data-empty="catalog">
        <h2>No catalog yet</h2>
        <p>
          Upload your products, templates and creatives with the admin API (<code>PUT /v1/admin/sites/{api.site}/products</code>, <code>…/templates</code>,{' '}
          <code>…/creatives</code>): see the README's "Deploy the edge". Or start from your Merchant Center feed:
        </p>
        <FeedImportPanel api={api} currency={currency} products={products} onSaved={onSaved} />
      </section>
    );
  }
  let parsed: Template | null = null;
  let parseProblem: string | null = null;
  try {
    const result = v.safeParse(TemplateSchema, JSON.parse(text));
    if (result.success) parsed = result.output;
    else parseProblem = describeIssues(result.issues);
  } catch (e) {
    parseProblem = `not JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  const save = async () => {
    if (!parsed) return setProblem(parseProblem);
    try {
      await api.saveTemplate(parsed);
      setProblem(null);
      onSaved(`Template ${parsed.id} saved.`);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <h2>Catalog and templates</h2>
      <p class="note">
        {products.length} products, {creatives.length} creatives, {templates.length} templates.
      </p>
      <div class="editor">
        <div>
          <label>
            Template{' '}
            <select value={editing ?? ''} onChange={(e) => setEditing((e.target as HTMLSelectElement).value)}>
              {templates.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.id} ({t.layout})
                </option>
              ))}
            </select>
          </label>
          <textarea aria-label="template JSON" rows={14} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
          <p class="note">
            <code>"status": "paused"</code>, or <code>"startsAt"</code> and <code>"endsAt"</code> (e.g. <code>"2026-12-24T00:00:00Z"</code>), pause or schedule
            every creative made from this template.
          </p>
          {(problem ?? parseProblem) && (
            <p class="problem" role="alert" data-problem>
              {problem ?? parseProblem}
            </p>
          )}
          <button type="button" onClick={save} disabled={!parsed}>
            Save template
          </button>
        </div>
        <div>
          {parsed && products.length > 0 ? (
            <Preview decision={previewDecision(parsed, products, storefront, currency)} />
          ) : (
            <p class="note">The preview needs a valid template and at least one product.</p>
          )}
        </div>
      </div>
      <CreativesPanel api={api} creatives={creatives} onSaved={onSaved} />
      <FeedImportPanel api={api} currency={currency} products={products} onSaved={onSaved} />
      <h3>Products</h3>
      <table data-table="products">
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Category</th>
            <th>Price</th>
            <th>In stock</th>
          </tr>
        </thead>
        <tbody>
          {products.map((p) => (
            <tr key={p.id}>
              <td>{p.id}</td>
              <td>{p.name}</td>
              <td>{p.category}</td>
              <td>{formatPrice(p.price, currency)}</td>
              <td>{p.inStock ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
