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

describe('0024: bounds near what devices send', () => {
  it('moves sites on the old default bounds (head 40, off-policy 50, offsets 3) to the new ones and leaves bounds a merchant chose', async () => {
    const now = new Date().toISOString();
    for (const [id, head, ope, offsets] of [
      ['bounds-old-default', 40, 50, 3],
      ['bounds-chosen', 25, 30, 2],
      ['bounds-mixed', 40, 30, 3],
    ] as const) {
      await env.DB.prepare('INSERT INTO sites (id, name, updated_at, head_clip, ope_clip, offset_clip) VALUES (?, ?, ?, ?, ?, ?)')
        .bind(id, id, now, head, ope, offsets)
        .run();
    }
    await runMigration('0024');
    const rows = await env.DB.prepare("SELECT id, head_clip, ope_clip, offset_clip FROM sites WHERE id LIKE 'bounds-%' ORDER BY id").all();
    expect(rows.results).toEqual([
      { id: 'bounds-chosen', head_clip: 25, ope_clip: 30, offset_clip: 2 },
      { id: 'bounds-mixed', head_clip: 10, ope_clip: 30, offset_clip: 1.5 },
      { id: 'bounds-old-default', head_clip: 10, ope_clip: 10, offset_clip: 1.5 },
    ]);
  });
});
