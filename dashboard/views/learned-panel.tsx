/**
 * What the serving model has learned, in words: each cell's (layout and message) multiplier of
 * the clicks the first model expects, with its 95% interval, from the offsets the serving model
 * carries (protocol/offsets.ts). A cell whose interval holds 1 is said to be "as expected".
 */
import { useEffect, useState } from 'preact/hooks';
import { Z95 } from '../../protocol/rate-interval.ts';
import type { Offsets } from '../../protocol/offsets.ts';
import type { AdminApi } from '../admin-api.ts';

/** "banner/new" as a merchant reads it. */
export function cellInWords(cell: string): string {
  const [layout = cell, message = ''] = cell.split('/');
  return `${layout.replace(/_/g, ' ')}s with a "${message}" message`;
}

export interface LearnedCell {
  cell: string;
  multiplier: number;
  lower: number;
  upper: number;
}

/** The cells of a model's offsets, most clicked beyond expectation first. */
export function learnedCells(offsets: Offsets): LearnedCell[] {
  return Object.entries(offsets.cells)
    .map(([cell, o]) => ({ cell, multiplier: Math.exp(o.mean), lower: Math.exp(o.mean - Z95 * o.sd), upper: Math.exp(o.mean + Z95 * o.sd) }))
    .sort((a, b) => b.multiplier - a.multiplier);
}

export function LearnedPanel({ api, serving }: { api: AdminApi; serving: string | null }) {
  const [offsets, setOffsets] = useState<Offsets | null | 'loading' | 'failed'>('loading');
  useEffect(() => {
    if (!serving) return setOffsets(null);
    api.modelOffsets(serving).then(setOffsets, () => setOffsets('failed'));
  }, [api, serving]);
  if (offsets === 'loading') return null;
  if (offsets === 'failed') return <p class="problem">The serving model could not be read.</p>;
  if (!offsets || Object.keys(offsets.cells).length === 0) {
    return (
      <p data-empty="learned">
        The serving model has learned nothing beyond the first model yet: offsets come from released rounds (<code>vitrine-train fit</code>) and serve once the
        gate promotes them.
      </p>
    );
  }
  const fmt = (x: number) => `${x.toFixed(2)}x`;
  return (
    <section data-panel="learned">
      <h3>What the serving model has learned</h3>
      <ul>
        {learnedCells(offsets).map((c) => (
          <li key={c.cell} data-cell={c.cell}>
            {cellInWords(c.cell)}:{' '}
            {c.lower <= 1 && c.upper >= 1 ? 'as expected' : c.multiplier > 1 ? 'more clicks than expected' : 'fewer clicks than expected'}, {fmt(c.multiplier)}{' '}
            [{c.lower.toFixed(2)}, {c.upper.toFixed(2)}]
          </li>
        ))}
      </ul>
      <p class="note">
        Multiples of the clicks the first model expects for each kind of creative, relative to the site as a whole, with 95% intervals. Each shopper's device
        also adapts them to its own clicks, which never leave it.
      </p>
    </section>
  );
}
