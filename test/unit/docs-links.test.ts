/**
 * The documents' links hold: every relative Markdown link in README.md, ARCHITECTURE.md,
 * PRIVACY.md and docs/lab/*.md, and every file of the lab named in backticks there
 * (`runs/...`, `charts/...`, `experiments/...`), points at a file in the tree. And the README
 * stays a user's document (at most 3,000 words: the lab is in docs/lab/).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const documents = [
  'README.md',
  'ARCHITECTURE.md',
  'PRIVACY.md',
  ...readdirSync(path.join(root, 'docs/lab'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/lab/${f}`),
];

function brokenLinks(document: string): string[] {
  const text = readFileSync(path.join(root, document), 'utf8');
  const dir = path.dirname(path.join(root, document));
  const targets = [
    ...[...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!),
    ...(document.startsWith('docs/lab/') ? [...text.matchAll(/`((?:runs|charts|experiments)\/[^`\s*<>]+)`/g)].map((m) => m[1]!) : []),
  ].filter((t) => !/^(https?:|mailto:|#)/.test(t));
  return targets
    .map((t) => t.replace(/#.*$/, ''))
    .filter((t) => t && !existsSync(path.join(dir, t)))
    .map((t) => `${document}: ${t}`);
}

describe('the documents', () => {
  it('link only to files that exist', () => {
    expect(documents.length).toBeGreaterThan(5);
    expect(documents.flatMap(brokenLinks)).toEqual([]);
  });

  it('keep the README under 3,000 words, with no commit hashes', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme.split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(3000);
    expect(readme.match(/\b[0-9a-f]{7,40}\b/g) ?? []).toEqual([]);
  });
});
