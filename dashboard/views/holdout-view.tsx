/**
 * The headline: what Vitrine earns against the shop's own slot content, on shoppers drawn at
 * random from the same traffic (the holdout, protocol/holdout.ts), in clicks and conversions per
 * impression and in revenue per 1,000 impressions, with intervals that stay valid however often the merchant looks
 * (protocol/holdout-comparison.ts). What the noise swamps says so instead of a number; the
 * comparison with random choice stays below it as a second view.
 */
import { compareArms, compareRevenue, differenceText, holdoutArms, perMilleText, revenueDifferenceText } from '../../protocol/holdout-comparison.ts';
import { pct, rateText } from '../../protocol/rate-interval.ts';
import { formatPrice } from '../../widget/render/money.ts';
import type { RoundsView, SiteSettingsView } from '../admin-api.ts';

export function HoldoutView({ rounds, settings }: { rounds: RoundsView; settings: SiteSettingsView }) {
  const released = rounds.rounds.flatMap((r) => (r.release ? [r.release] : []));
  const arms = holdoutArms(released);
  if (settings.holdoutShare === 0) {
    return (
      <section data-view="holdout">
        <h2>Against your own content</h2>
        <p data-fact="holdout-off">No holdout: every shopper sees Vitrine's creatives. Set a holdout share in Settings to measure what Vitrine earns.</p>
      </section>
    );
  }
  // No released round yet: the creatives view below says what to do next.
  if (arms.rounds === 0) return null;
  const rows = [
    { label: 'Clicks per impression', comparison: compareArms(arms.vitrine, arms.holdout, 'clicks'), outcome: 'clicks' },
    { label: 'Conversions per impression', comparison: compareArms(arms.vitrine, arms.holdout, 'conversions'), outcome: 'conversions' },
  ];
  const money = (amount: number) => formatPrice(amount, settings.currency);
  const revenue = compareRevenue(arms.vitrine, arms.holdout, arms.maxDeviceRevenue);
  return (
    <section data-view="holdout">
      <h2>Against your own content</h2>
      <p class="note">
        {pct(settings.holdoutShare, 0)} of shoppers (drawn at random, each for 30 days) keep your own slot content; everyone else sees Vitrine's creatives. Over{' '}
        {arms.rounds} released round(s). Rates with 95% intervals; the differences' intervals stay valid however often you look. Revenue counts orders that
        follow a click within the attribution window, in {settings.currency}.
      </p>
      <table data-table="holdout">
        <thead>
          <tr>
            <th />
            <th>with Vitrine</th>
            <th>your own content</th>
            <th>difference</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.outcome} data-outcome={r.outcome}>
              <td>{r.label}</td>
              <td>{rateText(r.comparison.vitrine, ' to ')}</td>
              <td>{rateText(r.comparison.holdout, ' to ')}</td>
              <td data-fact={`holdout-${r.outcome}`}>{differenceText(r.comparison)}</td>
            </tr>
          ))}
          <tr data-outcome="revenue">
            <td>Revenue per 1,000 impressions</td>
            <td>{perMilleText(revenue.vitrine, money)}</td>
            <td>{perMilleText(revenue.holdout, money)}</td>
            <td data-fact="holdout-revenue">{revenueDifferenceText(revenue, money)}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}
