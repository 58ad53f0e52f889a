/**
 * A shard's accumulation: a checked report added to the round's exact sums once (its id and its
 * token each counted once), each model part only over the model the round's first such part was
 * for and within the bound the round's noise is for; and the sums read back once the round has
 * closed. Functions of the shard's SQLite storage, run inside the object's transaction.
 */
import { l2Norm, withinBound } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { Report } from '../../protocol/wire.ts';
import { COUNT_FIELDS, countVector } from '../../protocol/outcome-counts.ts';
import type { CountField, OutcomeCounts } from '../../protocol/outcome-counts.ts';
import type { AddOutcome, CheckedModelParts, PartOutcome } from './round-contract.ts';
import type { ShardSums } from './round-sums.ts';

/** A creative's counts, one column each (protocol/outcome-counts.ts; `value` is a word SQL keeps for itself). */
const COUNT_COLUMNS: Record<CountField, string> = {
  impressions: 'impressions',
  clicks: 'clicks',
  conversions: 'conversions',
  dismissals: 'dismissals',
  value: 'value_units',
};
const columns = COUNT_FIELDS.map((f) => COUNT_COLUMNS[f]);
const ADD_TOTALS = `INSERT INTO creative_totals (creative_id, ${columns.join(', ')}) VALUES (?${', ?'.repeat(columns.length)})
  ON CONFLICT (creative_id) DO UPDATE SET ${columns.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`;
const READ_TOTALS = `SELECT creative_id, ${columns.join(', ')} FROM creative_totals`;

export const NOTHING: Omit<AddOutcome, 'duplicate' | 'closed'> = { head: 'none', ope: 'none', towers: 'none', offsets: 'none' };

/** Adds a report once (a retried id is a duplicate; a spent token is refused), `privacy` the round's terms. */
export function accumulateReport(sql: SqlStorage, report: Report, privacy: PrivacyTerms, parts: CheckedModelParts | null, tokenId: string): AddOutcome {
  const seen = sql.exec('SELECT 1 FROM reports WHERE id = ?', report.reportId).toArray();
  if (seen.length > 0) return { duplicate: true, closed: false, ...NOTHING };
  // A retry of a report (same id, same token) was answered above; a new report with a spent
  // token is a second report from one device's one token: refused, nothing added.
  const spent = sql.exec('SELECT 1 FROM spent_tokens WHERE id = ?', tokenId).toArray();
  if (spent.length > 0) return { duplicate: false, closed: false, tokenSpent: true, ...NOTHING };
  sql.exec('INSERT INTO spent_tokens (id) VALUES (?)', tokenId);
  sql.exec('INSERT INTO reports (id) VALUES (?)', report.reportId);
  for (const o of report.outcomes) sql.exec(ADD_TOTALS, o.creativeId, ...countVector(o));
  const offered = (part: unknown): PartOutcome => (part ? 'ignored_other_model' : 'none');
  if (!parts)
    return {
      duplicate: false,
      closed: false,
      head: offered(report.head),
      ope: offered(report.ope),
      towers: offered(report.towers),
      offsets: offered(report.offsets),
    };
  return {
    duplicate: false,
    closed: false,
    // The route checked the head against the site's bound now; the release's noise is for
    // the bound the round began under, so a part above that one would be under-noised.
    head: parts.head
      ? withinBound(l2Norm(parts.head), privacy.headClip)
        ? addHead(sql, parts.model, parts.head)
        : 'ignored_over_round_bound'
      : offered(report.head),
    ope: parts.ope
      ? withinBound(l2Norm(parts.ope.flatMap((e) => e.sums)), privacy.opeClip)
        ? addOpe(sql, parts.model, parts.ope)
        : 'ignored_over_round_bound'
      : offered(report.ope),
    towers: parts.towers ? addTowers(sql, parts.model, parts.towers) : offered(report.towers),
    offsets: parts.offsets
      ? withinBound(l2Norm(parts.offsets.flatMap((e) => [e.clicks, e.expected])), privacy.offsetClip)
        ? addOffsets(sql, parts.model, parts.offsets)
        : 'ignored_over_round_bound'
      : offered(report.offsets),
  };
}

function addHead(sql: SqlStorage, model: string, stats: number[]): PartOutcome {
  const row = sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
  if (!row) {
    sql.exec('INSERT INTO head_sums (id, model_version, reports, stats) VALUES (1, ?, 1, ?)', model, JSON.stringify(stats));
    return 'counted';
  }
  const sums = JSON.parse(row.stats) as number[];
  if (row.model_version !== model || sums.length !== stats.length) return 'ignored_other_model';
  stats.forEach((x, i) => (sums[i]! += x));
  sql.exec('UPDATE head_sums SET reports = reports + 1, stats = ? WHERE id = 1', JSON.stringify(sums));
  return 'counted';
}

/** Off-policy sums are pooled only over decisions of one logging (serving) model per round. */
function addOpe(sql: SqlStorage, model: string, entries: { modelVersion: string; sums: number[] }[]): PartOutcome {
  const row = sql.exec<{ logging_model: string }>('SELECT logging_model FROM ope_reports').toArray()[0];
  if (row && row.logging_model !== model) return 'ignored_other_model';
  if (!row) sql.exec('INSERT INTO ope_reports (id, logging_model, reports) VALUES (1, ?, 1)', model);
  else sql.exec('UPDATE ope_reports SET reports = reports + 1 WHERE id = 1');
  for (const e of entries) {
    const existing = sql.exec<{ sums: string }>('SELECT sums FROM ope_sums WHERE model_version = ?', e.modelVersion).toArray()[0];
    const sums = existing ? (JSON.parse(existing.sums) as number[]) : new Array<number>(e.sums.length).fill(0);
    e.sums.forEach((x, i) => (sums[i]! += x));
    sql.exec('INSERT OR REPLACE INTO ope_sums (model_version, logging_model, sums) VALUES (?, ?, ?)', e.modelVersion, model, JSON.stringify(sums));
  }
  return 'counted';
}

/** Offsets, summed per key over one serving model's decisions (their expected clicks are its head's). */
function addOffsets(sql: SqlStorage, model: string, entries: { key: string; clicks: number; expected: number }[]): PartOutcome {
  const row = sql.exec<{ model_version: string }>('SELECT model_version FROM offset_reports').toArray()[0];
  if (row && row.model_version !== model) return 'ignored_other_model';
  if (!row) sql.exec('INSERT INTO offset_reports (id, model_version, reports) VALUES (1, ?, 1)', model);
  else sql.exec('UPDATE offset_reports SET reports = reports + 1 WHERE id = 1');
  for (const e of entries) {
    sql.exec(
      `INSERT INTO offset_sums (key, clicks, expected) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET clicks = clicks + excluded.clicks, expected = expected + excluded.expected`,
      e.key,
      e.clicks,
      e.expected,
    );
  }
  return 'counted';
}

/** Tower gradients, summed as float64 in a BLOB (6,240 numbers: JSON would be the slow part). */
function addTowers(sql: SqlStorage, model: string, gradient: Float64Array): PartOutcome {
  const row = sql.exec<{ model_version: string; sums: ArrayBuffer }>('SELECT model_version, sums FROM tower_sums').toArray()[0];
  if (!row) {
    sql.exec('INSERT INTO tower_sums (id, model_version, reports, sums) VALUES (1, ?, 1, ?)', model, gradient.slice().buffer);
    return 'counted';
  }
  const sums = new Float64Array(row.sums.slice(0));
  if (row.model_version !== model || sums.length !== gradient.length) return 'ignored_other_model';
  for (let i = 0; i < sums.length; i++) sums[i]! += gradient[i]!;
  sql.exec('UPDATE tower_sums SET reports = reports + 1, sums = ? WHERE id = 1', sums.buffer);
  return 'counted';
}

/** This shard's exact sums once the round has closed (null while it is open): for the coordinator only. */
export function readShardSums(sql: SqlStorage): ShardSums {
  const head = sql.exec<{ model_version: string; reports: number; stats: string }>('SELECT model_version, reports, stats FROM head_sums').toArray()[0];
  const ope = sql.exec<{ logging_model: string; reports: number }>('SELECT logging_model, reports FROM ope_reports').toArray()[0];
  const towers = sql.exec<{ model_version: string; reports: number; sums: ArrayBuffer }>('SELECT model_version, reports, sums FROM tower_sums').toArray()[0];
  const offsets = sql.exec<{ model_version: string; reports: number }>('SELECT model_version, reports FROM offset_reports').toArray()[0];
  return {
    contributors: sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM reports').one().n,
    totals: sql
      .exec<Record<string, number> & { creative_id: string }>(READ_TOTALS)
      .toArray()
      .map((r) => ({ creativeId: r.creative_id, ...(Object.fromEntries(COUNT_FIELDS.map((f) => [f, r[COUNT_COLUMNS[f]]!])) as OutcomeCounts) })),
    head: head ? { model: head.model_version, reports: head.reports, stats: JSON.parse(head.stats) as number[] } : null,
    ope: ope
      ? {
          loggingModel: ope.logging_model,
          reports: ope.reports,
          models: sql
            .exec<{ model_version: string; sums: string }>('SELECT model_version, sums FROM ope_sums')
            .toArray()
            .map((m) => ({ modelVersion: m.model_version, sums: JSON.parse(m.sums) as number[] })),
        }
      : null,
    towers: towers ? { model: towers.model_version, reports: towers.reports, sums: new Float64Array(towers.sums.slice(0)) } : null,
    offsets: offsets
      ? {
          model: offsets.model_version,
          reports: offsets.reports,
          sums: sql
            .exec<{ key: string; clicks: number; expected: number }>('SELECT key, clicks, expected FROM offset_sums')
            .toArray()
            .map((r) => ({ key: r.key, clicks: r.clicks, expected: r.expected })),
        }
      : null,
  };
}
