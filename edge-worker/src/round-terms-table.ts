/**
 * A shard's record of its round's terms (fixed at the round's first request: the noise the
 * release gets is fixed by them), whether it has closed, and the round's shard count (its
 * coordinator's plan). Functions of the shard's SQLite storage.
 */
import { DEFAULT_PRIVACY } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { RoundTerms } from './round-contract.ts';

export type StoredTerms = RoundTerms & { closed: boolean };

/** The round's terms as this shard recorded them, or null before its first request. */
export function readTerms(sql: SqlStorage): StoredTerms | null {
  const row = sql
    .exec<{ starts_at: number | null; deadline: number; min_cohort: number; closed: number }>('SELECT starts_at, deadline, min_cohort, closed FROM terms')
    .toArray()[0];
  if (!row) return null;
  const p = sql
    .exec<{ head_clip: number; count_clip: number; value_unit: number; ope_clip: number; tower_clip: number; offset_clip: number; noise_multiplier: number }>(
      'SELECT head_clip, count_clip, value_unit, ope_clip, tower_clip, offset_clip, noise_multiplier FROM privacy_terms',
    )
    .toArray()[0];
  // A round object older than stored privacy terms ran under the defaults.
  const privacy: PrivacyTerms = p
    ? {
        headClip: p.head_clip,
        countClip: p.count_clip,
        valueUnit: p.value_unit,
        opeClip: p.ope_clip,
        towerClip: p.tower_clip,
        offsetClip: p.offset_clip,
        noiseMultiplier: p.noise_multiplier,
      }
    : DEFAULT_PRIVACY;
  return { start: row.starts_at, deadline: row.deadline, minCohort: row.min_cohort, closed: row.closed === 1, privacy };
}

/** Records the terms of a round this shard had none for. */
export function writeTerms(sql: SqlStorage, terms: RoundTerms): void {
  sql.exec('INSERT INTO terms (id, starts_at, deadline, min_cohort) VALUES (1, ?, ?, ?)', terms.start, terms.deadline, terms.minCohort);
  sql.exec(
    'INSERT OR REPLACE INTO privacy_terms (id, head_clip, count_clip, value_unit, ope_clip, tower_clip, offset_clip, noise_multiplier) VALUES (1, ?, ?, ?, ?, ?, ?, ?)',
    terms.privacy.headClip,
    terms.privacy.countClip,
    terms.privacy.valueUnit,
    terms.privacy.opeClip,
    terms.privacy.towerClip,
    terms.privacy.offsetClip,
    terms.privacy.noiseMultiplier,
  );
}

/** The shard takes no more reports (at its deadline, or at `at` when a test closes it earlier: the window then says when it really ended). */
export function markClosed(sql: SqlStorage, at = Infinity): void {
  if (at === Infinity) sql.exec('UPDATE terms SET closed = 1');
  else sql.exec('UPDATE terms SET closed = 1, deadline = MIN(deadline, ?)', at);
}

export const isOpen = (terms: { deadline: number; closed: boolean }): boolean => !terms.closed && Date.now() < terms.deadline;

/** Fixes the round's shard count at the coordinator's first request (later ones keep it). */
export function fixShards(sql: SqlStorage, shards: number): void {
  sql.exec('INSERT OR IGNORE INTO plan (id, shards) VALUES (1, ?)', shards);
}

/** The round's shard count (a coordinator's plan; 1 for a round no request reached). */
export function readShards(sql: SqlStorage): number {
  return sql.exec<{ shards: number }>('SELECT shards FROM plan').toArray()[0]?.shards ?? 1;
}
