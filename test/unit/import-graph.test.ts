/**
 * The house's layering, checked on every run: no import circles anywhere in the source, the
 * ground floor (protocol/) imports nothing above it, and the rooms that show statistics (the
 * dashboard, the simulator, the bench) take them from protocol/, not from the trainer's room.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ROOMS = ['protocol', 'widget', 'edge-worker/src', 'model-training/src', 'dashboard', 'simulator', 'bench', 'scripts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(full);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Relative imports (type-only ones included: a circle of types is still a circle to read). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specifiers.map((s) => path.resolve(path.dirname(file), s));
}

const files = ROOMS.flatMap((room) => sourceFiles(path.join(ROOT, room)));
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));
const rel = (f: string) => path.relative(ROOT, f);

describe('the import graph', () => {
  it('reads the tree (a parser that found nothing would pass everything)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect([...graph.values()].reduce((n, e) => n + e.length, 0)).toBeGreaterThan(200);
  });

  it('has no circles', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') circles.push([...stack.slice(stack.indexOf(t)), t].map(rel).join(' -> '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(circles).toEqual([]);
  });

  it('protocol/ imports nothing outside itself; statistics are read from it, not from the trainer', () => {
    const outside = files
      .filter((f) => rel(f).startsWith('protocol/'))
      .flatMap((f) =>
        graph
          .get(f)!
          .filter((t) => !rel(t).startsWith('protocol/'))
          .map((t) => `${rel(f)} -> ${rel(t)}`),
      );
    expect(outside).toEqual([]);
    const upward = files
      .filter((f) => /^(dashboard|widget|edge-worker)\//.test(rel(f)))
      .flatMap((f) =>
        graph
          .get(f)!
          .filter((t) => rel(t).startsWith('model-training/'))
          .map((t) => `${rel(f)} -> ${rel(t)}`),
      );
    expect(upward).toEqual([]);
  });

  // The product's rooms; a simulated world or synthetic shopper may well prefer banners by name.
  it("the product reads layouts through their traits (protocol/catalog.ts LAYOUT_TRAITS), never by comparing a layout's name", () => {
    const comparisons = files
      .filter((f) => /^(widget|edge-worker|dashboard|protocol)\//.test(rel(f)) && rel(f) !== 'protocol/catalog.ts')
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .flatMap((line, i) => (/layout\s*[!=]==\s*'(banner|product_card|carousel)'/.test(line) ? [`${rel(f)}:${i + 1}`] : [])),
      );
    expect(comparisons).toEqual([]);
  });
});
