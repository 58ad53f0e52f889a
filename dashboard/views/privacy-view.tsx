/** Privacy: epsilon spent over time against the budget, K, contributors per round, rounds below K. */
import type { PrivacyView, RoundsView, SiteSettingsView } from '../admin-api.ts';
import { cumulativeEpsilon } from '../statistics.ts';
import { TrendChart } from '../trend-chart.tsx';

export function PrivacyPanel({ ledger, rounds, settings }: { ledger: PrivacyView; rounds: RoundsView; settings: SiteSettingsView }) {
  const spent = cumulativeEpsilon(ledger);
  const below = rounds.rounds.filter((r) => r.status === 'below_cohort');
  return (
    <section>
      <h2>Privacy</h2>
      <dl class="facts">
        <dt>Epsilon spent this period</dt>
        <dd data-fact="epsilon">{ledger.epsilon.toFixed(2)}</dd>
        <dt>Budget per period</dt>
        <dd data-fact="budget">{ledger.budget}</dd>
        <dt>Period</dt>
        <dd data-fact="period">
          {ledger.periodDays} days, renews {new Date(ledger.period.renewsAt).toISOString().slice(0, 10)}
        </dd>
        <dt>All periods together</dt>
        <dd data-fact="epsilon-all">{ledger.epsilonAllPeriods.toFixed(2)}</dd>
        <dt>Delta</dt>
        <dd>{ledger.delta}</dd>
        <dt>Minimum cohort (K)</dt>
        <dd data-fact="k">{rounds.minCohort}</dd>
        <dt>Noise multiplier</dt>
        <dd data-fact="noise">{settings.noiseMultiplier}</dd>
        <dt>Head bound (per device and round)</dt>
        <dd data-fact="head-clip">{settings.headClip}</dd>
      </dl>
      {spent.length === 0 ? (
        <p class="empty" data-empty="privacy">
          Nothing released yet, so nothing spent. Each released round spends a little of the budget ({ledger.budget}); see PRIVACY.md for what is released and
          how it is noised.
        </p>
      ) : (
        <TrendChart
          title="Epsilon spent this period against the budget"
          x={spent.map((s) => s.round)}
          format={(v) => v.toFixed(1)}
          series={[
            { label: 'epsilon spent', color: '#0a5cff', values: spent.map((s) => s.epsilon) },
            { label: 'budget', color: '#b00020', dash: [6, 4], values: spent.map(() => ledger.budget) },
          ]}
        />
      )}
      <h3>Rounds</h3>
      {rounds.rounds.length === 0 ? (
        <p class="empty">No recent round has been counted yet (the trainer's pull counts and releases closed rounds).</p>
      ) : (
        <table data-table="rounds">
          <thead>
            <tr>
              <th>Round</th>
              <th title="Noised: no exact count leaves the edge">Contributors (noised)</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {rounds.rounds.map((r) => (
              <tr key={r.round} data-round={r.round}>
                <td>{r.round}</td>
                <td>{r.contributors}</td>
                <td>
                  {r.status === 'below_cohort'
                    ? `below K (${r.contributors ?? '?'} of ${r.minCohort}, counted with noise): never released`
                    : r.status.replace('_', ' ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p data-fact="below-k">{below.length} recent round(s) did not reach K.</p>
    </section>
  );
}
