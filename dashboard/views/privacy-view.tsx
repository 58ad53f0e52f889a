/** Privacy: epsilon spent over time against the budget, K, contributors per round, rounds below K. */
import type { PrivacyView, RoundsView, SiteSettingsView } from '../admin-api.ts';
import { cumulativeEpsilon, whole } from '../statistics.ts';
import { TrendChart } from '../trend-chart.tsx';
import type { ModelPart } from '../../protocol/report-parts.ts';

/** What each part a round releases buys (protocol/report-parts.ts). */
const PART_IN_WORDS: Record<ModelPart, string> = {
  offsets: 'offsets (what the model learns at your scale: clicks against expected clicks per kind of creative)',
  ope: "off-policy sums (the promotion gate's evidence that a new model is better)",
  head: "the last layer's statistics (learned at a large shop's scale)",
  towers: "the towers' gradient (learned at a large shop's scale)",
};

export function PrivacyPanel({ ledger, rounds, settings }: { ledger: PrivacyView; rounds: RoundsView; settings: SiteSettingsView }) {
  const spent = cumulativeEpsilon(ledger);
  const below = rounds.rounds.filter((r) => r.status === 'below_cohort');
  return (
    <section>
      <h2>Privacy</h2>
      <dl class="facts">
        <dt>Epsilon spent in the last {ledger.periodDays} days</dt>
        <dd data-fact="epsilon">{ledger.epsilon.toFixed(2)}</dd>
        <dt>Budget per {ledger.periodDays} days</dt>
        <dd data-fact="budget">{ledger.budget}</dd>
        <dt>Budget frees up</dt>
        <dd data-fact="frees">{ledger.freesAt ? `from ${ledger.freesAt.slice(0, 10)}, as the earliest spend leaves the window` : 'nothing spent'}</dd>
        <dt>Noise per round</dt>
        <dd data-fact="noise">
          {ledger.pacing.noiseMultiplier.toFixed(2)}
          {ledger.pacing.paced ? ` (paced: all ${ledger.pacing.roundsPerPeriod} rounds of a period fit the budget)` : ' (set by you)'}
        </dd>
        <dt>Each released round costs</dt>
        <dd data-fact="per-round">epsilon {ledger.pacing.epsilonPerRound.toFixed(3)}</dd>
        <dt>At one release a round</dt>
        <dd data-fact="runs-out">
          {ledger.pacing.runsOutAt ? `the budget runs out with the round of ${ledger.pacing.runsOutAt.slice(0, 10)}` : 'the budget lasts'}
        </dd>
        <dt>All rounds together</dt>
        <dd data-fact="epsilon-all">{ledger.epsilonAllTime.toFixed(2)}</dd>
        <dt>Delta</dt>
        <dd>{ledger.delta}</dd>
        <dt>Minimum cohort (K)</dt>
        <dd data-fact="k">{rounds.minCohort}</dd>
        <dt>Head bound (per device and round)</dt>
        <dd data-fact="head-clip">{settings.headClip}</dd>
      </dl>
      <p data-fact="parts">
        Each released round spends its budget on:{' '}
        {settings.parts.length === 0 ? 'the counts alone' : ['per-creative counts (your numbers)', ...settings.parts.map((p) => PART_IN_WORDS[p])].join(', ')}.
      </p>
      {spent.length === 0 ? (
        <p class="empty" data-empty="privacy">
          Nothing released yet, so nothing spent. Each released round spends a little of the budget ({ledger.budget}); see PRIVACY.md for what is released and
          how it is noised.
        </p>
      ) : (
        <TrendChart
          title="Epsilon spent in the last period against the budget"
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
                <td>{r.contributors === undefined ? '' : whole(r.contributors)}</td>
                <td>
                  {r.status === 'below_cohort'
                    ? `below K (${r.contributors === undefined ? '?' : whole(r.contributors)} of ${r.minCohort}, counted with noise): never released`
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
