/**
 * Does personalization pay? The serving model's click rate against uniform random choice among
 * the same eligible creatives, per released round and over all of them, each with its 95%
 * interval, and which model served. Both come from the devices' off-policy sums (the serving
 * model's own entry is its on-policy click rate; the uniform entry re-weights the same decisions,
 * protocol/off-policy.ts), so they are estimated on the very same situations.
 */
import { liftOver } from '../../protocol/off-policy-estimate.ts';
import type { Lift, ReleasedOpe } from '../../protocol/off-policy-estimate.ts';
import type { Interval } from '../../protocol/rate-interval.ts';
import { rateText, sayable, TOO_FEW } from '../../protocol/rate-interval.ts';
import type { RoundsView } from '../admin-api.ts';
import { releasedOpe } from '../statistics.ts';

interface LiftRow extends Lift {
  label: string;
}

const liftRow = (label: string, model: string, rounds: ReleasedOpe[]): LiftRow => ({ label, ...liftOver(rounds, model) });

const interval = (i: Interval | null) => rateText(i, ' to ');

export function LiftView({ rounds }: { rounds: RoundsView }) {
  const released = releasedOpe(rounds);
  if (released.length === 0) return null;
  const rows = released.map((r) => liftRow(`round ${r.round}`, r.loggingModel, [r]));
  const models = [...new Set(released.map((r) => r.loggingModel))];
  // Over all released rounds of the model serving last (rounds of other models measure another policy).
  const last = released.at(-1)!.loggingModel;
  const overall = liftRow(
    `all ${released.filter((r) => r.loggingModel === last).length} round(s) of ${last}`,
    last,
    released.filter((r) => r.loggingModel === last),
  );
  // A ratio is only as good as both its rates: shown when both intervals say something.
  const lift = (r: LiftRow) =>
    sayable(r.personalized) && sayable(r.uniform) && r.uniform.estimate > 0 ? `${(r.personalized.estimate / r.uniform.estimate).toFixed(2)}x` : TOO_FEW;
  return (
    <section data-view="lift">
      <h2>Does personalization pay?</h2>
      <p class="note">
        Click rate of the creatives the model chose, against choosing uniformly at random among the same eligible creatives, on the same decisions (estimated
        from the devices' noised off-policy sums; 95% intervals). {models.length > 1 ? `${models.length} models served in these rounds.` : ''}
      </p>
      <p data-fact="lift-overall">
        {overall.label}: personalized {interval(overall.personalized)} against random {interval(overall.uniform)}, {lift(overall)}.
      </p>
      <table data-table="lift">
        <thead>
          <tr>
            <th>round</th>
            <th>model serving</th>
            <th>personalized</th>
            <th>uniform random</th>
            <th>lift</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label}>
              <td>{r.label}</td>
              <td>
                <code>{r.model}</code>
              </td>
              <td>{interval(r.personalized)}</td>
              <td>{interval(r.uniform)}</td>
              <td>{lift(r)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
