/**
 * The creatives as uploaded, with what a merchant does to a campaign: pause or resume it, see its
 * schedule and whether devices are shown it now, delete it (asked first). Each action goes through
 * the admin API and the edge's rules; a refusal is shown with its reason.
 */
import { useState } from 'preact/hooks';
import type { Creative } from '../../protocol/wire.ts';
import type { AdminApi } from '../admin-api.ts';

/** Whether devices are shown the creative now, in words. */
function servedNow(c: Creative, now: number): string {
  if (c.status === 'paused') return 'paused';
  if (c.startsAt && Date.parse(c.startsAt) > now) return `starts ${c.startsAt.slice(0, 16).replace('T', ' ')} UTC`;
  if (c.endsAt && Date.parse(c.endsAt) <= now) return `ended ${c.endsAt.slice(0, 16).replace('T', ' ')} UTC`;
  return c.endsAt ? `live until ${c.endsAt.slice(0, 16).replace('T', ' ')} UTC` : 'live';
}

export function CreativesPanel({ api, creatives, onSaved }: { api: AdminApi; creatives: Creative[]; onSaved: (what: string) => void }) {
  const [problem, setProblem] = useState<string | null>(null);
  const act = async (what: string, action: () => Promise<unknown>) => {
    try {
      await action();
      setProblem(null);
      onSaved(what);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
  };
  const now = Date.now();
  return (
    <>
      <h3>Creatives</h3>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <table data-table="creative-list">
        <thead>
          <tr>
            <th>Id</th>
            <th>Template</th>
            <th>Product or category</th>
            <th>Shown now</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {creatives.map((c) => (
            <tr key={c.id} data-creative={c.id}>
              <td>{c.id}</td>
              <td>{c.templateId}</td>
              <td>{c.productId ?? c.category}</td>
              <td data-served>{servedNow(c, now)}</td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    act(`Creative ${c.id} ${c.status === 'paused' ? 'resumed' : 'paused'}.`, () =>
                      api.saveCreative({ ...c, status: c.status === 'paused' ? 'active' : 'paused' }),
                    )
                  }
                >
                  {c.status === 'paused' ? 'Resume' : 'Pause'}
                </button>{' '}
                <button
                  type="button"
                  onClick={() =>
                    confirm(`Delete creative ${c.id}? Its released results stay; devices stop being shown it.`) &&
                    act(`Creative ${c.id} deleted.`, () => api.deleteCreative(c.id))
                  }
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
