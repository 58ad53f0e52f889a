/**
 * Settings a merchant changes most: the storefront origins, the minimum cohort, the privacy budget
 * and its period, the currency and its revenue unit, and the holdout share. Saved with PATCH (only the fields changed; the rest stays
 * as set), under the edge's own rules: privacy only stricter while the period has spent budget,
 * a budget that lasts the period. What the edge refuses is shown with its reason, nothing saved.
 */
import { useState } from 'preact/hooks';
import type { AdminApi, SiteSettingsView } from '../admin-api.ts';
import { ApiError } from '../admin-api.ts';

interface Field {
  key: 'allowedOrigins' | 'minCohort' | 'epsilonBudget' | 'budgetPeriodDays' | 'currency' | 'valueUnit' | 'holdoutShare';
  label: string;
  help: string;
}

const FIELDS: Field[] = [
  { key: 'allowedOrigins', label: 'Storefront origins', help: 'One per line, e.g. https://shop.example: the pages allowed to use Vitrine.' },
  { key: 'minCohort', label: 'Minimum cohort (K)', help: 'Devices a round needs before anything of it is released.' },
  { key: 'epsilonBudget', label: 'Privacy budget (epsilon per period)', help: 'While this period has spent budget it can be lowered, never raised.' },
  { key: 'budgetPeriodDays', label: 'Budget period (days)', help: 'While this period has spent budget it can be lengthened, never shortened.' },
  { key: 'currency', label: 'Currency', help: "ISO 4217 code of your catalog's prices, e.g. EUR." },
  { key: 'valueUnit', label: 'Revenue unit', help: 'Revenue is counted in units of this much of your currency: a typical order should be a few units.' },
  {
    key: 'holdoutShare',
    label: 'Holdout share',
    help: 'The share of shoppers who keep your own slot content (0 to 0.5; 0.05 is 5%): what the headline measures Vitrine against.',
  },
];

const shown = (settings: SiteSettingsView, key: Field['key']) => (key === 'allowedOrigins' ? settings.allowedOrigins.join('\n') : String(settings[key]));

/** The form's text as the edge's types: origins a list, numbers numbers (a number the form cannot read is sent as typed, for the edge to refuse by name). */
function parsed(key: Field['key'], text: string): unknown {
  if (key === 'allowedOrigins') return text.split(/\s+/).filter(Boolean);
  if (key === 'currency') return text.trim();
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

export function SettingsView({ api, settings, onSaved }: { api: AdminApi; settings: SiteSettingsView; onSaved: (what: string) => void }) {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(FIELDS.map((f) => [f.key, shown(settings, f.key)])));
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const changed = FIELDS.filter((f) => values[f.key] !== shown(settings, f.key));
  const save = async (e: Event) => {
    e.preventDefault();
    if (changed.length === 0) return;
    setSaving(true);
    try {
      await api.changeSettings(Object.fromEntries(changed.map((f) => [f.key, parsed(f.key, values[f.key]!)])));
      setProblem(null);
      onSaved(`Saved: ${changed.map((f) => f.label.toLowerCase()).join(', ')}.`);
    } catch (err) {
      setProblem(err instanceof ApiError ? `Not saved: ${err.message}` : `Not saved: ${String(err)}`);
    } finally {
      setSaving(false);
    }
  };
  return (
    <section data-view="settings">
      <h2>Settings</h2>
      <form onSubmit={save} data-form="settings">
        {FIELDS.map((f) => (
          <div key={f.key} class="setting">
            <label for={`setting-${f.key}`}>{f.label}</label>
            {f.key === 'allowedOrigins' ? (
              <textarea
                id={`setting-${f.key}`}
                name={f.key}
                rows={3}
                value={values[f.key]}
                onInput={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })}
              />
            ) : (
              <input id={`setting-${f.key}`} name={f.key} value={values[f.key]} onInput={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })} />
            )}
            <small>{f.help}</small>
          </div>
        ))}
        {problem && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" disabled={saving || changed.length === 0}>
          Save {changed.length > 0 ? `${changed.length} change(s)` : ''}
        </button>
      </form>
      <p class="note">
        Every round now gets noise {settings.pacing.noiseMultiplier.toFixed(2)} ({settings.pacing.paced ? 'paced so the budget lasts the period' : 'as set'});
        rounds last {settings.roundSeconds / 3600} h. Other settings: <code>PATCH /v1/admin/sites/{settings.id}</code> (README).
      </p>
    </section>
  );
}
