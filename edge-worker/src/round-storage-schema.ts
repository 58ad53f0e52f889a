/**
 * The round Durable Object's SQLite schema as numbered migrations, the way D1's are
 * (edge-worker/migrations/, applied by wrangler): an object applies the ones it lacks when it
 * starts, in order, each in one transaction with the version it brings, kept in `schema_version`.
 * A change to the schema is a new entry at the end; an entry never changes once deployed (an
 * object may sit at any version until its round is released, which can be days later).
 * So the column defaults below are literals, not DEFAULT_PRIVACY: they are the bounds devices
 * clipped to when the column was added (what a round from before it began under), and a later
 * change of a default must not rewrite them (noise calibrated to a smaller bound than the one
 * devices clipped to would break the round's guarantee).
 */
export const ROUND_STORAGE_MIGRATIONS: readonly string[] = [
  // 1: the tables. IF NOT EXISTS: objects from before versioning run it again (adoptedVersion).
  `CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS creative_totals (
    creative_id TEXT PRIMARY KEY,
    impressions INTEGER NOT NULL DEFAULT 0,
    clicks INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS terms (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    deadline INTEGER NOT NULL,
    min_cohort INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS privacy_terms (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    head_clip REAL NOT NULL,
    count_clip REAL NOT NULL,
    noise_multiplier REAL NOT NULL
  );
  CREATE TABLE IF NOT EXISTS head_sums (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    model_version TEXT NOT NULL,
    reports INTEGER NOT NULL,
    stats TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ope_sums (
    model_version TEXT PRIMARY KEY,
    logging_model TEXT NOT NULL,
    sums TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ope_reports (id INTEGER PRIMARY KEY CHECK (id = 1), logging_model TEXT NOT NULL, reports INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS tower_sums (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    model_version TEXT NOT NULL,
    reports INTEGER NOT NULL,
    sums BLOB NOT NULL
  );
  CREATE TABLE IF NOT EXISTS released (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS token_key (id INTEGER PRIMARY KEY CHECK (id = 1), private_key BLOB NOT NULL, public_key BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS token_issues (client TEXT PRIMARY KEY, issued INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS spent_tokens (id TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS plan (id INTEGER PRIMARY KEY CHECK (id = 1), shards INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS noised_counts (id INTEGER PRIMARY KEY CHECK (id = 1), model TEXT, contributors INTEGER NOT NULL, head INTEGER NOT NULL, ope INTEGER NOT NULL, towers INTEGER NOT NULL);`,
  // 2: conversions (a purchase within the attribution window of a click).
  'ALTER TABLE creative_totals ADD COLUMN conversions INTEGER NOT NULL DEFAULT 0;',
  // 3: the bounds of the off-policy sums and the towers' gradient, fixed with the round's terms.
  `ALTER TABLE privacy_terms ADD COLUMN ope_clip REAL NOT NULL DEFAULT 50;
  ALTER TABLE privacy_terms ADD COLUMN tower_clip REAL NOT NULL DEFAULT 0.25;`,
  // 4: "not interested" answers.
  'ALTER TABLE creative_totals ADD COLUMN dismissals INTEGER NOT NULL DEFAULT 0;',
  // 5: when the round began (ms since the epoch; its budget period is the one its start falls in).
  'ALTER TABLE terms ADD COLUMN starts_at INTEGER;',
  // 6: offsets (protocol/offsets.ts): their bound, fixed with the round's terms, and their sums per key.
  `ALTER TABLE privacy_terms ADD COLUMN offset_clip REAL NOT NULL DEFAULT 3;
  CREATE TABLE offset_sums (key TEXT PRIMARY KEY, clicks REAL NOT NULL, expected REAL NOT NULL);
  CREATE TABLE offset_reports (id INTEGER PRIMARY KEY CHECK (id = 1), model_version TEXT NOT NULL, reports INTEGER NOT NULL);`,
  // 7: revenue (protocol/outcome-counts.ts): order value in units of the round's value_unit.
  `ALTER TABLE creative_totals ADD COLUMN value_units INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE privacy_terms ADD COLUMN value_unit REAL NOT NULL DEFAULT 20;`,
];

/** Brings the object's storage to the last migration; says where it started and ended. */
export function migrateRoundStorage(storage: DurableObjectStorage): { from: number; to: number } {
  const sql = storage.sql;
  sql.exec('CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)');
  const recorded = sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0]?.version;
  const from = recorded ?? adoptedVersion(sql);
  for (let version = from; version < ROUND_STORAGE_MIGRATIONS.length; version++) {
    storage.transactionSync(() => {
      sql.exec(ROUND_STORAGE_MIGRATIONS[version]!);
      sql.exec('INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version', version + 1);
    });
  }
  return { from, to: Math.max(from, ROUND_STORAGE_MIGRATIONS.length) };
}

/**
 * The version of an object with no recorded one: 0 when it is new; for one created before the
 * versions were recorded (2026-11-30), the last migration its columns show (they were added in
 * this order), after its missing tables are created (the first migration, run again).
 */
function adoptedVersion(sql: SqlStorage): number {
  const columns = (table: string) =>
    sql
      .exec<{ name: string }>(`PRAGMA table_info(${table})`)
      .toArray()
      .map((c) => c.name);
  if (columns('terms').length === 0) return 0;
  sql.exec(ROUND_STORAGE_MIGRATIONS[0]!);
  const totals = columns('creative_totals');
  if (totals.includes('dismissals')) return 4;
  if (columns('privacy_terms').includes('tower_clip')) return 3;
  return totals.includes('conversions') ? 2 : 1;
}
