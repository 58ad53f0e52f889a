import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { offPolicyEstimates, readObdLog, runOffline } from '../../model-training/src/offline-obd.ts';
import type { LoggedRow } from '../../model-training/src/offline-obd.ts';
import { seededRandom } from '../../model-training/src/seeded-random.ts';

const ITEMS = 6;

/**
 * A log in the Open Bandit Dataset's format (not the dataset: any log in the format must work),
 * from a uniform logging policy, where a shopper clicks mostly the item they showed affinity for.
 */
function writeSyntheticObd(dir: string, rows: number, seed: number): { logs: string; items: string } {
  const random = seededRandom(seed);
  const items = path.join(dir, 'item_context.csv');
  writeFileSync(
    items,
    [
      ',item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3',
      ...Array.from({ length: ITEMS }, (_, i) => `${i},${i},${(i - 2.5) / 2},cat${i},brand${i % 2},kind${i % 3}`),
    ].join('\n'),
  );
  const header = [
    ',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1',
    ...Array.from({ length: ITEMS }, (_, j) => `user-item_affinity_${j}`),
  ].join(',');
  const lines = [header];
  for (let r = 0; r < rows; r++) {
    const liked = Math.floor(random() * ITEMS);
    const shown = Math.floor(random() * ITEMS);
    const click = random() < (shown === liked ? 0.3 : 0.01) ? 1 : 0;
    const affinity = Array.from({ length: ITEMS }, (_, j) => (j === liked ? 2 : 0));
    const at = new Date(Date.UTC(2019, 10, 24) + r * 60_000).toISOString().replace('T', ' ').replace('Z', '+00:00');
    lines.push([r, at, shown, 1 + (r % 3), click, 1 / ITEMS, `u${r % 4}`, `v${r % 2}`, ...affinity].join(','));
  }
  const logs = path.join(dir, 'men.csv');
  writeFileSync(logs, lines.join('\n'));
  return { logs, items };
}

describe('off-policy estimators', () => {
  it('estimate the logging policy itself at exactly its observed CTR', () => {
    const random = seededRandom(3);
    const rows: LoggedRow[] = Array.from({ length: 500 }, (_, i) => ({
      at: i,
      item: i % ITEMS,
      position: 1,
      click: random() < 0.1 ? 1 : 0,
      propensity: 1 / ITEMS,
      userFeatures: [],
      affinity: [],
    }));
    const uniform = () => new Float64Array(ITEMS).fill(1 / ITEMS);
    const ctr = rows.reduce((s, r) => s + r.click, 0) / rows.length;
    const est = offPolicyEstimates(rows, uniform, () => new Float64Array(ITEMS));
    expect(est.ips.estimate).toBeCloseTo(ctr, 12);
    expect(est.snips.estimate).toBeCloseTo(ctr, 12);
    expect(est.dr.estimate).toBeCloseTo(ctr, 12); // outcome model 0: DR is IPS
    for (const e of [est.ips, est.snips, est.dr]) expect(e.lower).toBeLessThan(e.estimate);
  });
});

describe('vitrine-train offline on a log in the Open Bandit Dataset format', () => {
  it('trains on the earlier part, and its policy beats the uniform logging policy on the later part', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vitrine-obd-'));
    const { logs, items } = writeSyntheticObd(dir, 4000, 11);
    expect(readObdLog(logs)).toHaveLength(4000);
    const r = await runOffline({ logs, items, trainShare: 0.7, checkLogs: logs, explorationFloor: 0.01, seed: 7 });
    expect(r).toMatchObject({ rows: 4000, trainRows: 2800, evalRows: 1200, items: ITEMS });
    for (const e of [r.learned.ips, r.learned.snips, r.learned.dr]) {
      expect(e.lower).toBeLessThanOrEqual(e.estimate);
      expect(e.estimate).toBeLessThanOrEqual(e.upper);
    }
    // Clicks follow affinity strongly (30% vs 1%): a model that learned it shows the liked item.
    expect(r.learned.snips.lower).toBeGreaterThan(r.logging_ctr);
    // The check: the logging policy, estimated from its own log, covers its observed CTR.
    expect(r.check!.ips.lower).toBeLessThanOrEqual(r.check!.observed_ctr);
    expect(r.check!.ips.upper).toBeGreaterThanOrEqual(r.check!.observed_ctr);
  }, 120_000);
});
