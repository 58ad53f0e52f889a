/**
 * Creatives: released impressions, clicks, click rate (95% interval, noise included),
 * conversions and revenue, in total and by round; counts shown as what is possible (clicks at most
 * impressions, nothing below zero), rates the noise swamps as too few shoppers yet.
 */
import { useMemo, useState } from 'preact/hooks';
import type { RoundsView } from '../admin-api.ts';
import { HOLDOUT_CREATIVE } from '../../protocol/holdout.ts';
import { noisyRate, pct, rateText, sayable, TOO_FEW } from '../../protocol/rate-interval.ts';
import { formatPrice } from '../../widget/render/money.ts';
import { countNoiseVariance, whole } from '../statistics.ts';
import { TrendChart } from '../trend-chart.tsx';

interface Row {
  creativeId: string;
  impressions: number;
  clicks: number;
  conversions: number;
  dismissals: number;
  /** In the site's currency (each round's value units times its valueUnit). */
  revenue: number;
}

type SortKey = keyof Row | 'ctr';

export function CreativesView({ rounds, currency }: { rounds: RoundsView; currency: string }) {
  const released = rounds.rounds.filter((r) => r.release).sort((a, b) => a.round - b.round);
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: 'impressions', descending: true });
  const [selected, setSelected] = useState<string | null>(null);
  const totals = useMemo(() => {
    const by = new Map<string, Row>();
    for (const r of released) {
      for (const t of r.release!.totals) {
        if (t.creativeId === HOLDOUT_CREATIVE) continue; // the shop's own content: the headline above compares it
        const row = by.get(t.creativeId) ?? { creativeId: t.creativeId, impressions: 0, clicks: 0, conversions: 0, dismissals: 0, revenue: 0 };
        row.impressions += t.impressions;
        row.clicks += t.clicks;
        row.conversions += t.conversions;
        row.dismissals += t.dismissals ?? 0;
        row.revenue += (t.value ?? 0) * (r.release!.valueUnit ?? 0);
        by.set(t.creativeId, row);
      }
    }
    // Post-processing (free under DP): nothing below zero, no more clicks than impressions, no more conversions than clicks.
    return [...by.values()].map((r) => {
      const impressions = Math.max(0, r.impressions);
      const clicks = Math.min(impressions, Math.max(0, r.clicks));
      return {
        ...r,
        impressions,
        clicks,
        // Every conversion follows a click on the creative: over all released rounds, no more conversions than clicks.
        conversions: Math.min(clicks, Math.max(0, r.conversions)),
        dismissals: Math.max(0, r.dismissals),
        revenue: Math.max(0, r.revenue),
      };
    });
  }, [rounds]);
  const noiseVariance = countNoiseVariance(released);
  // Each creative's revenue carries every round's count noise in that round's currency units.
  const revenueSd = Math.sqrt(released.reduce((v, r) => v + (r.release!.noise.countStd * (r.release!.valueUnit ?? 0)) ** 2, 0));
  // Revenue comes with conversions: none where they are none. Above that, a figure only past 3 sd
  // of its noise: among many creatives, 2 sd would show a few made by the noise alone.
  const revenueText = (r: Row) => (r.conversions > 0 && revenueSd > 0 && r.revenue > 3 * revenueSd ? formatPrice(r.revenue, currency) : TOO_FEW);
  if (released.length === 0) {
    return (
      <section class="empty" data-empty="creatives">
        <h2>No results yet</h2>
        <p>
          Results appear per round, once a round has closed with at least {rounds.minCohort} devices reporting and the trainer has released it (
          <code>npx vitrine-train pull</code>). Check that the script tag is on your pages and that your storefront's origin is in the site's allowed origins.
        </p>
      </section>
    );
  }
  const rate = (r: Row) => noisyRate(r.clicks, r.impressions, noiseVariance);
  const value = (r: Row, key: SortKey) => (key === 'ctr' ? (sayable(rate(r)) ? rate(r)!.estimate : -1) : r[key]);
  const rows = [...totals].sort((a, b) => {
    const x = value(a, sort.key);
    const y = value(b, sort.key);
    const order = typeof x === 'string' ? String(x).localeCompare(String(y)) : (x as number) - (y as number);
    return sort.descending ? -order : order;
  });
  const header = (key: SortKey, label: string) => (
    <th aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" onClick={() => setSort({ key, descending: sort.key === key ? !sort.descending : true })}>
        {label}
      </button>
    </th>
  );
  const trend = selected ?? rows[0]!.creativeId;
  const perRound = released.map((r) => ({ round: r.round, t: r.release!.totals.find((t) => t.creativeId === trend), noise: r.release!.noise.countStd ** 2 }));
  return (
    <section>
      <h2>Creatives</h2>
      <p class="note">
        {released.length} released round(s). Counts carry the release's Gaussian noise (standard deviation {Math.sqrt(noiseVariance).toFixed(1)} on each total
        here), shown as what is possible; the 95% intervals cover both the shoppers' chance and that noise. Click a row for its trend.
      </p>
      <table class="sortable" data-table="creatives">
        <thead>
          <tr>
            {header('creativeId', 'Creative')}
            {header('impressions', 'Impressions')}
            {header('clicks', 'Clicks')}
            {header('ctr', 'CTR (95% interval)')}
            {header('conversions', 'Conversions')}
            {header('dismissals', 'Not interested')}
            {header('revenue', `Revenue (${currency})`)}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            return (
              <tr key={r.creativeId} data-creative={r.creativeId} class={r.creativeId === trend ? 'selected' : ''} onClick={() => setSelected(r.creativeId)}>
                <td>{r.creativeId}</td>
                <td data-value={r.impressions}>{whole(r.impressions)}</td>
                <td data-value={r.clicks}>{whole(r.clicks)}</td>
                <td data-rate>{rateText(rate(r))}</td>
                <td>{whole(r.conversions)}</td>
                <td>{whole(r.dismissals)}</td>
                <td data-revenue>{revenueText(r)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <TrendChart
        title={`${trend}: click rate by round`}
        x={perRound.map((p) => p.round)}
        format={(v) => pct(v, 1)}
        series={[
          {
            label: 'CTR',
            color: '#0a5cff',
            values: perRound.map((p) => {
              const iv = p.t ? noisyRate(p.t.clicks, p.t.impressions, p.noise) : null;
              return sayable(iv) ? iv.estimate : null;
            }),
          },
        ]}
      />
    </section>
  );
}
