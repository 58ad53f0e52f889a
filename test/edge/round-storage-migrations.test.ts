/**
 * The round Durable Object's schema migrations (edge-worker/src/round-storage-schema.ts), run on
 * real Durable Object storage in workerd: an object at any earlier version, recorded or from
 * before versions were recorded, ends with the very schema a new object gets, its rows kept.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { migrateRoundStorage, ROUND_STORAGE_MIGRATIONS } from '../../edge-worker/src/round-storage-schema.ts';

const LATEST = ROUND_STORAGE_MIGRATIONS.length;

/** A new round object's storage (its constructor has migrated it), handed to `callback`. */
function inFreshObject<R>(callback: (storage: DurableObjectStorage) => R): Promise<R> {
  const stub = env.ROUNDS.get(env.ROUNDS.idFromName(`schema-test-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance, state) => callback(state.storage));
}

/** Every table with its CREATE statement (ALTERs rewrite it), internal tables left out. */
function schemaOf(sql: SqlStorage): Record<string, string> {
  const rows = sql
    .exec<{ name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .toArray();
  return Object.fromEntries(rows.map((r) => [r.name, r.sql]));
}

/** Empties the object and rebuilds it as it stood at `version`, with a row in each table that version has. */
function rebuildAt(storage: DurableObjectStorage, version: number, recorded: boolean): void {
  const sql = storage.sql;
  for (const name of Object.keys(schemaOf(sql))) sql.exec(`DROP TABLE ${name}`);
  for (let v = 0; v < version; v++) sql.exec(ROUND_STORAGE_MIGRATIONS[v]!);
  if (version > 0) {
    sql.exec('INSERT INTO creative_totals (creative_id, impressions, clicks) VALUES (?, ?, ?)', 'c-1', 7, 2);
    sql.exec('INSERT INTO privacy_terms (id, head_clip, count_clip, noise_multiplier) VALUES (1, 8, 4, 4.5)');
  }
  if (recorded)
    sql.exec(
      'CREATE TABLE schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1, ?)',
      version,
    );
}

describe('the round object migrates its own storage', () => {
  it('a new object is at the last version, with every migration applied', async () => {
    const { version, totals, privacy } = await inFreshObject((storage) => ({
      version: storage.sql.exec<{ version: number }>('SELECT version FROM schema_version').one().version,
      totals: storage.sql
        .exec<{ name: string }>('PRAGMA table_info(creative_totals)')
        .toArray()
        .map((c) => c.name),
      privacy: storage.sql
        .exec<{ name: string }>('PRAGMA table_info(privacy_terms)')
        .toArray()
        .map((c) => c.name),
    }));
    expect(version).toBe(LATEST);
    expect(totals).toEqual(['creative_id', 'impressions', 'clicks', 'conversions', 'dismissals', 'value_units']);
    expect(privacy).toEqual(['id', 'head_clip', 'count_clip', 'noise_multiplier', 'ope_clip', 'tower_clip', 'offset_clip', 'value_unit']);
  });

  it('an object at any earlier version, recorded or from before versions were recorded, ends with the new schema and keeps its rows', async () => {
    const fresh = await inFreshObject((storage) => schemaOf(storage.sql));
    for (const recorded of [true, false]) {
      // Versions were first recorded at 4: an unrecorded object is at 1-4.
      for (let version = recorded ? 0 : 1; version <= (recorded ? LATEST : 4); version++) {
        const after = await inFreshObject((storage) => {
          rebuildAt(storage, version, recorded);
          const steps = migrateRoundStorage(storage);
          const again = migrateRoundStorage(storage); // a restart: nothing left to do
          const sql = storage.sql;
          return {
            steps,
            again,
            schema: schemaOf(sql),
            totals: sql.exec('SELECT * FROM creative_totals').toArray(),
            privacy: sql.exec('SELECT * FROM privacy_terms').toArray(),
          };
        });
        const label = `${recorded ? 'recorded' : 'unrecorded'} version ${version}`;
        expect([label, after.steps]).toEqual([label, { from: version, to: LATEST }]);
        expect([label, after.again]).toEqual([label, { from: LATEST, to: LATEST }]);
        expect([label, after.schema]).toEqual([label, fresh]);
        if (version > 0) {
          expect([label, after.totals]).toEqual([label, [{ creative_id: 'c-1', impressions: 7, clicks: 2, conversions: 0, dismissals: 0, value_units: 0 }]]);
          expect([label, after.privacy]).toEqual([
            label,
            [
              {
                id: 1,
                head_clip: 8,
                count_clip: 4,
                noise_multiplier: 4.5,
                // The bounds devices clipped to when each column was added (literals in the
                // migrations: a later change of DEFAULT_PRIVACY must not rewrite an old round's).
                ope_clip: 50,
                tower_clip: 0.25,
                offset_clip: 3,
                value_unit: 20,
              },
            ],
          ]);
        }
      }
    }
  });

  it('a failing migration leaves the object at the version before it (each runs in one transaction with its version)', async () => {
    const result = await inFreshObject((storage) => {
      rebuildAt(storage, 3, true);
      storage.sql.exec('ALTER TABLE creative_totals ADD COLUMN dismissals INTEGER'); // migration 4 will now fail
      let error = '';
      try {
        migrateRoundStorage(storage);
      } catch (e) {
        error = String(e);
      }
      return { error, version: storage.sql.exec<{ version: number }>('SELECT version FROM schema_version').one().version };
    });
    expect(result.error).toMatch(/duplicate column/);
    expect(result.version).toBe(3);
  });
});
