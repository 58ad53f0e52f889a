/**
 * A Google Merchant Center feed (XML or TSV) into the catalog from the dashboard: read in the
 * browser with the same reader as `vitrine-train import-feed` (protocol/merchant-feed.ts), every
 * refused row shown with its line, attribute and reason before anything is sent; the valid rows
 * uploaded on the merchant's word, keeping the popularity of products already there.
 */
import { useState } from 'preact/hooks';
import { parseMerchantFeed } from '../../protocol/merchant-feed.ts';
import type { FeedImport } from '../../protocol/merchant-feed.ts';
import type { Product } from '../../protocol/wire.ts';
import type { AdminApi } from '../admin-api.ts';

export function FeedImportPanel({
  api,
  currency,
  products,
  onSaved,
}: {
  api: AdminApi;
  currency: string;
  products: Product[];
  onSaved: (what: string) => void;
}) {
  const [read, setRead] = useState<(FeedImport & { file: string }) | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const choose = async (e: Event) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (!file) return;
    setRead({ ...parseMerchantFeed(await file.text(), { currency }), file: file.name });
    setProblem(null);
  };
  const upload = async () => {
    if (!read) return;
    const popularity = new Map(products.map((p) => [p.id, p.popularity]));
    try {
      const n = await api.putProducts(read.products.map((p) => ({ ...p, popularity: popularity.get(p.id) ?? p.popularity })));
      onSaved(`${n} product(s) imported from ${read.file}; ${read.refused.length} row(s) refused.`);
    } catch (err) {
      setProblem(`Not imported: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return (
    <div class="feed-import" data-panel="feed-import">
      <h3>Import a Merchant Center feed</h3>
      <label>
        Feed file (XML or TSV) <input type="file" accept=".xml,.tsv,.txt,text/xml,text/tab-separated-values" onChange={choose} />
      </label>
      {read && (
        <>
          <p data-fact="feed-read">
            {read.file}: {read.products.length} product(s) ready, {read.refused.length} row(s) refused.
          </p>
          {read.refused.length > 0 && (
            <table data-table="feed-refused">
              <thead>
                <tr>
                  <th>Line</th>
                  <th>Attribute</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {read.refused.map((r) => (
                  <tr key={r.line}>
                    <td>{r.line}</td>
                    <td>{r.field}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <button type="button" onClick={upload} disabled={read.products.length === 0}>
            Upload {read.products.length} product(s)
          </button>
        </>
      )}
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
