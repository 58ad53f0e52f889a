/**
 * Data migrations, run on real D1 in workerd. The test setup applies every migration to an empty
 * database, where an UPDATE has nothing to act on; here the rows a migration is for are written
 * as they stood before it, and its own SQL (the file wrangler applies) is run on them again.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

async function runMigration(prefix: string): Promise<void> {
  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith(prefix));
  if (!migration) throw new Error(`no migration ${prefix}`);
  await env.DB.batch(migration.queries.map((q) => env.DB.prepare(q)));
}

describe('0009: head bound for unit-size models', () => {
  it('moves sites on the old default bound of 2,000 to 40 and leaves a bound a merchant chose', async () => {
    const now = new Date().toISOString();
    for (const [id, clip] of [
      ['migrate-old-default', 2000],
      ['migrate-chosen', 300],
    ] as const) {
      await env.DB.prepare('INSERT INTO sites (id, name, updated_at, head_clip) VALUES (?, ?, ?, ?)').bind(id, id, now, clip).run();
    }
    await runMigration('0009');
    const rows = await env.DB.prepare("SELECT id, head_clip FROM sites WHERE id LIKE 'migrate-%' ORDER BY id").all<{ id: string; head_clip: number }>();
    expect(rows.results).toEqual([
      { id: 'migrate-chosen', head_clip: 300 },
      { id: 'migrate-old-default', head_clip: 40 },
    ]);
  });
});
