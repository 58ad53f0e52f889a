/**
 * Models: versions and their status, off-policy estimates from released rounds, the revenue each
 * earned per 1,000 impressions over the rounds it served, promote and roll back.
 */
import { useState } from 'preact/hooks';
import { evaluateCandidates } from '../../protocol/off-policy-estimate.ts';
import type { AdminApi, ModelView, RoundsView } from '../admin-api.ts';
import { pct, sayable, TOO_FEW } from '../../protocol/rate-interval.ts';
import { releasedOpe } from '../statistics.ts';
import { perMilleText, servedRevenue } from '../../protocol/holdout-comparison.ts';
import { formatPrice } from '../../widget/render/money.ts';
import { LearnedPanel } from './learned-panel.tsx';

export function ModelsView({
  api,
  models,
  rounds,
  currency,
  onChanged,
}: {
  api: AdminApi;
  models: ModelView[];
  rounds: RoundsView;
  currency: string;
  onChanged: (what: string) => void;
}) {
  const [message, setMessage] = useState<string | null>(null);
  if (models.length === 0) {
    return (
      <section class="empty" data-empty="models">
        <h2>No model yet</h2>
        <p>
          Creatives are chosen by popularity until a model serves. Train the first one from your catalog: <code>npx vitrine-train bootstrap</code>.
        </p>
      </section>
    );
  }
  const serving = models.find((m) => m.status === 'serving');
  const released = releasedOpe(rounds);
  const evaluations = serving ? evaluateCandidates(released, serving.version) : [];
  // The model that served a released round: the one its parts were logged under.
  const servedBy = (m: string) =>
    rounds.rounds.flatMap((r) =>
      r.release && (r.release.ope?.modelVersion ?? r.release.offsets?.modelVersion ?? r.release.head?.modelVersion) === m ? [r.release] : [],
    );
  const revenueText = (m: string) => {
    const rounds = servedBy(m);
    return rounds.length === 0 ? 'not served in a released round' : perMilleText(servedRevenue(rounds), (x) => formatPrice(x, currency));
  };
  const act = async (what: string, run: () => Promise<{ version: string }>) => {
    if (!confirm(what)) return;
    try {
      const r = await run();
      setMessage(null);
      onChanged(`Model ${r.version} now serves; devices switch at their next config check.`);
    } catch (e) {
      setMessage(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <h2>Models</h2>
      {message && (
        <p class="problem" role="alert">
          {message}
        </p>
      )}
      <table data-table="models">
        <thead>
          <tr>
            <th>Version</th>
            <th>Status</th>
            <th>Estimated CTR vs serving (95% interval)</th>
            <th>Revenue per 1,000 impressions while serving</th>
            <th>Trained on</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {models.map((m) => {
            const e = evaluations.find((x) => x.candidate === m.version);
            const estimate = e?.candidateValue
              ? sayable(e.candidateValue)
                ? `${pct(e.candidateValue.estimate)} (${pct(e.candidateValue.lower)}–${pct(e.candidateValue.upper)}) vs ${pct(e.servingValue!.estimate)}: ${e.verdict.replace('_', ' ')}`
                : `${TOO_FEW} (${e.verdict.replace('_', ' ')})`
              : e
                ? `${TOO_FEW} (${e.reason})`
                : m.status === 'serving'
                  ? 'serving'
                  : 'not evaluated yet';
            return (
              <tr key={m.version} data-model={m.version} data-status={m.status}>
                <td>
                  <code>{m.version}</code>
                </td>
                <td>
                  <span class={`status ${m.status}`}>{m.status}</span>
                  {m.promotedAt && <span class="served"> (served from {m.promotedAt.slice(0, 10)})</span>}
                </td>
                <td>{estimate}</td>
                <td data-revenue>{revenueText(m.version)}</td>
                <td class="provenance">{m.trainedOn}</td>
                <td>
                  {m.status !== 'serving' && (
                    <button
                      type="button"
                      onClick={() => act(`Serve model ${m.version}? Every device switches to it at its next config check.`, () => api.promote(m.version))}
                    >
                      Promote
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p>
        <button type="button" class="rollback" onClick={() => act('Roll back to the previously serving model?', () => api.rollback())}>
          Roll back
        </button>
      </p>
      <LearnedPanel api={api} serving={serving?.version ?? null} />
    </section>
  );
}
