/**
 * The typed page API (widget/vitrine.d.ts) names exactly the events and commands the script
 * implements: an event added to protocol/shopper-events.ts, or a command to the loader, without
 * its type (or the reverse) fails here. The calls themselves are type-checked in
 * test/types/vitrine-api.ts by `npm run typecheck`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../protocol/shopper-events.ts';

const root = path.resolve(import.meta.dirname, '../..');
const types = readFileSync(path.join(root, 'widget/vitrine.d.ts'), 'utf8');
const loader = readFileSync(path.join(root, 'widget/loader/index.ts'), 'utf8');

describe('the typed page API', () => {
  it("types every event a page may track (page_view is the script's own)", () => {
    const body = types.slice(types.indexOf('interface VitrineTrackProps'), types.indexOf('export type VitrineEvent'));
    const typed = [...body.matchAll(/^\s+(\w+): /gm)].map((m) => m[1]);
    expect(typed.sort()).toEqual(EVENT_TYPES.filter((t) => t !== 'page_view').sort());
  });

  it('types every command the loader implements, and no other', () => {
    const typed = [...types.matchAll(/\(command: '(\w+)'/g)].map((m) => m[1]);
    const block = loader.slice(loader.indexOf('const commands'), loader.indexOf('const vitrine: QueueStub'));
    const implemented = [...block.matchAll(/^ {4}(\w+)(?:\(|:)/gm)].map((m) => m[1]);
    expect(new Set(typed)).toEqual(new Set(implemented));
    expect(implemented.length).toBeGreaterThanOrEqual(5);
  });
});
