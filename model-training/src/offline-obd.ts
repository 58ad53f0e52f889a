/**
 * The offline path: train Vitrine's model from logged bandit feedback in the Open Bandit
 * Dataset's format and estimate, off-policy, what the learned policy would earn.
 *
 * The mapping onto Vitrine's features (the same encoder the widget runs):
 *   item (action)            -> a creative: category = item_feature_1, brand = item_feature_2,
 *                               price band from item_feature_0, message type from item_feature_3
 *   position                 -> the slot ("position-1".."position-3")
 *   user-item affinity       -> the on-device profile: each item's affinity is added to its
 *                               category, brand and price band, as decayed behaviour would be
 *   user_feature_0..3        -> hashed into the profile's hashed-terms block (coarse context)
 *   click, propensity_score  -> reward, the logging policy's probability
 * The learned policy is the engine's: Thompson shares over the Bayesian last layer with the
 * exploration floor. Estimators on the held-out later part of the log: IPS, self-normalized IPS
 * and doubly robust (the model's predicted click rate as the outcome model), each with a normal
 * 95% interval (delta method for SNIPS).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { CREATIVE_DIM, CROSS_DIM, crossRows, encodeCreative, encodeShopper, SHOPPER_DIM } from '../../protocol/features.ts';
import type { CreativeAttributes, PageContext } from '../../protocol/features.ts';
import { MESSAGE_TYPES, priceBandOf } from '../../protocol/catalog.ts';
import { bucketOf } from '../../protocol/hash.ts';
import { cholesky } from '../../protocol/linalg.ts';
import { emptyProfile, SEARCH_BUCKETS } from '../../protocol/profile.ts';
import type { ShopperProfile } from '../../protocol/profile.ts';
import { drawThetas, thompsonShares, withFloor } from '../../protocol/policy.ts';
import { DEFAULT_FIT, fitTwoTower } from './fit-two-tower.ts';
import { seededRandom } from './seeded-random.ts';
import { headFeatures } from '../../protocol/model.ts';
import type { TowerWeights } from '../../protocol/model.ts';
import { Z95 } from '../../protocol/rate-interval.ts';

export interface LoggedRow {
  at: number;
  item: number;
  position: number;
  click: number;
  propensity: number;
  userFeatures: string[];
  affinity: number[];
}

export interface Estimate {
  estimate: number;
  lower: number;
  upper: number;
}

/** Reads a comma-separated file with a header row (OBD files have no quoted fields). */
function readCsv(file: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  if (lines.length < 2) throw new Error(`${file} has no rows`);
  return { header: lines[0]!.split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

function column(header: string[], name: string, file: string): number {
  const i = header.indexOf(name);
  if (i < 0) throw new Error(`${file} has no column ${name}: is it in the Open Bandit Dataset format?`);
  return i;
}

export function readObdItems(file: string): Map<number, CreativeAttributes> {
  const { header, rows } = readCsv(file);
  const [id, f0, f1, f2, f3] = ['item_id', 'item_feature_0', 'item_feature_1', 'item_feature_2', 'item_feature_3'].map((n) => column(header, n, file)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const items = new Map<number, CreativeAttributes>();
  for (const r of rows) {
    items.set(Number(r[id]), {
      category: `f1:${r[f1]}`,
      brand: `f2:${r[f2]}`,
      // item_feature_0 is standardized: spread it over the price bands around a typical price.
      price: 60 * Math.exp(Number(r[f0])),
      layout: 'product_card',
      messageType: MESSAGE_TYPES[bucketOf(r[f3]!, MESSAGE_TYPES.length)]!,
      popularity: 0,
    });
  }
  return items;
}

export function readObdLog(file: string): LoggedRow[] {
  const { header, rows } = readCsv(file);
  const at = column(header, 'timestamp', file);
  const item = column(header, 'item_id', file);
  const position = column(header, 'position', file);
  const click = column(header, 'click', file);
  const propensity = column(header, 'propensity_score', file);
  const users = header.map((h, i) => (/^user_feature_\d+$/.test(h) ? i : -1)).filter((i) => i >= 0);
  const affinities = header.map((h, i) => (/^user-item_affinity_\d+$/.test(h) ? i : -1)).filter((i) => i >= 0);
  return rows
    .map((r) => ({
      at: Date.parse(r[at]!),
      item: Number(r[item]),
      position: Number(r[position]),
      click: Number(r[click]),
      propensity: Number(r[propensity]),
      userFeatures: users.map((i) => r[i]!),
      affinity: affinities.map((i) => Number(r[i])),
    }))
    .sort((a, b) => a.at - b.at);
}

/** The page every logged impression is treated as shown on (the logs carry no page). */
const OBD_PAGE = (row: LoggedRow): PageContext => ({ pageType: 'home', category: null, hour: new Date(row.at).getUTCHours(), device: 'desktop' });

function shopperProfile(row: LoggedRow, items: Map<number, CreativeAttributes>): ShopperProfile {
  const profile = emptyProfile(row.at);
  row.affinity.forEach((a, j) => {
    const c = items.get(j);
    if (!(a > 0) || !c) return;
    profile.categories[c.category] = (profile.categories[c.category] ?? 0) + a;
    profile.brands[c.brand] = (profile.brands[c.brand] ?? 0) + a;
    profile.priceBands[priceBandOf(c.price)]! += a;
    profile.activity += a;
  });
  for (const [k, f] of row.userFeatures.entries()) profile.searchBuckets[bucketOf(`u${k}:${f}`, SEARCH_BUCKETS)]! += 1;
  return profile;
}

const slotOf = (position: number) => `position-${position}`;

function meanInterval(terms: number[]): Estimate {
  const n = terms.length;
  const mean = terms.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(terms.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const half = (Z95 * sd) / Math.sqrt(n);
  return { estimate: mean, lower: mean - half, upper: mean + half };
}

/** IPS, SNIPS and DR of a target policy `pi(row)` (its probabilities over the items) on logged rows. */
export function offPolicyEstimates(
  rows: readonly LoggedRow[],
  pi: (row: LoggedRow) => Float64Array,
  qhat: (row: LoggedRow) => Float64Array,
): { ips: Estimate; snips: Estimate; dr: Estimate } {
  const ipsTerms: number[] = [];
  const weights: number[] = [];
  const drTerms: number[] = [];
  for (const row of rows) {
    const p = pi(row);
    const q = qhat(row);
    const w = p[row.item]! / row.propensity;
    ipsTerms.push(w * row.click);
    weights.push(w);
    let direct = 0;
    for (let a = 0; a < p.length; a++) direct += p[a]! * q[a]!;
    drTerms.push(direct + w * (row.click - q[row.item]!));
  }
  const n = rows.length;
  const meanW = weights.reduce((a, b) => a + b, 0) / n;
  const snips = ipsTerms.reduce((a, b) => a + b, 0) / (meanW * n);
  // Delta method: SNIPS's influence terms are w (r - snips) / mean(w).
  const influence = rows.map((row, i) => (weights[i]! * (row.click - snips)) / meanW);
  const spread = meanInterval(influence);
  const half = spread.upper - spread.estimate;
  return { ips: meanInterval(ipsTerms), snips: { estimate: snips, lower: snips - half, upper: snips + half }, dr: meanInterval(drTerms) };
}

export interface OfflineResult {
  rows: number;
  trainRows: number;
  evalRows: number;
  items: number;
  logging_ctr: number;
  learned: { ips: Estimate; snips: Estimate; dr: Estimate };
  /** A check of the estimators: another policy's value estimated from this log, beside that policy's own observed CTR. */
  check?: { policy: string; observed_ctr: number; ips: Estimate; snips: Estimate };
}

export interface OfflineOptions {
  logs: string;
  items: string;
  /** Share of the log (earliest first) to train on; the rest is held out for evaluation. */
  trainShare: number;
  /** Optionally, another policy's log: its action frequencies per position are its policy, its CTR the check. */
  checkLogs?: string;
  explorationFloor: number;
  seed: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export async function runOffline(o: OfflineOptions): Promise<OfflineResult> {
  const items = readObdItems(o.items);
  const log = readObdLog(o.logs);
  const nItems = Math.max(...items.keys()) + 1;
  if (log.some((r) => !items.has(r.item))) throw new Error(`${o.logs} logs items that ${o.items} does not describe`);
  const cut = Math.floor(log.length * o.trainShare);
  const train = log.slice(0, cut);
  const test = log.slice(cut);
  const creativeRows = (position: number) => {
    const out = new Float32Array(nItems * CREATIVE_DIM);
    for (let a = 0; a < nItems; a++) out.set(encodeCreative(items.get(a)!, slotOf(position)), a * CREATIVE_DIM);
    return out;
  };
  const bySlot = new Map([1, 2, 3].map((p) => [p, creativeRows(p)]));

  // Train the same model the widget serves, on the logged impressions.
  const data = {
    n: train.length,
    shoppers: new Float32Array(train.length * SHOPPER_DIM),
    creatives: new Float32Array(train.length * CREATIVE_DIM),
    cross: new Float32Array(train.length * CROSS_DIM),
    clicks: Float32Array.from(train, (r) => r.click),
    truth: new Float32Array(train.length),
  };
  train.forEach((r, i) => {
    const profile = shopperProfile(r, items);
    data.shoppers.set(encodeShopper(profile, OBD_PAGE(r), r.at), i * SHOPPER_DIM);
    data.creatives.set(encodeCreative(items.get(r.item)!, slotOf(r.position)), i * CREATIVE_DIM);
    data.cross.set(crossRows(profile, OBD_PAGE(r), [items.get(r.item)!]), i * CROSS_DIM);
  });
  const fitted = await fitTwoTower(data, { ...DEFAULT_FIT, seed: o.seed, trainedOn: `offline: ${o.logs}`, onEpoch: o.onEpoch });
  const named = tf.io.decodeWeights(
    fitted.weights.buffer.slice(fitted.weights.byteOffset, fitted.weights.byteOffset + fitted.weights.byteLength) as ArrayBuffer,
    fitted.model.weightsManifest[0].weights,
  );
  const d = fitted.head.dim;
  const thetas = drawThetas(fitted.head.mean, cholesky(fitted.head.covariance, d), d, 256, seededRandom(o.seed));
  const everyItem = Array.from({ length: nItems }, (_, a) => a);
  const everyAttributes = everyItem.map((a) => items.get(a)!);
  const cache = new Map<LoggedRow, { p: Float64Array; q: Float64Array }>();
  const scored = (row: LoggedRow) => {
    let hit = cache.get(row);
    if (!hit) {
      const profile = shopperProfile(row, items);
      const shopper = encodeShopper(profile, OBD_PAGE(row), row.at);
      const creatives = bySlot.get(row.position)!;
      const phi = tf.tidy(() =>
        headFeatures(
          named as unknown as TowerWeights,
          tf.tensor2d(shopper, [1, SHOPPER_DIM]),
          tf.tensor2d(creatives, [nItems, CREATIVE_DIM]),
          tf.tensor2d(crossRows(profile, OBD_PAGE(row), everyAttributes), [nItems, CROSS_DIM]),
        ).dataSync(),
      ) as Float32Array;
      const q = new Float64Array(nItems);
      for (let a = 0; a < nItems; a++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += phi[a * d + j]! * fitted.head.mean[j]!;
        q[a] = Math.min(1, Math.max(0, s));
      }
      hit = { p: withFloor(thompsonShares(phi, d, thetas, 256, everyItem), o.explorationFloor), q };
      cache.set(row, hit);
    }
    return hit;
  };
  const learned = offPolicyEstimates(
    test,
    (r) => scored(r).p,
    (r) => scored(r).q,
  );
  const result: OfflineResult = {
    rows: log.length,
    trainRows: train.length,
    evalRows: test.length,
    items: nItems,
    logging_ctr: test.reduce((s, r) => s + r.click, 0) / test.length,
    learned,
  };
  if (o.checkLogs) {
    // The other policy's action distribution per position, from its own log's frequencies.
    const other = readObdLog(o.checkLogs);
    const freq = new Map<number, Float64Array>();
    for (const r of other) {
      const f = freq.get(r.position) ?? new Float64Array(nItems);
      f[r.item]! += 1;
      freq.set(r.position, f);
    }
    for (const f of freq.values()) {
      const total = f.reduce((a, b) => a + b, 0);
      f.forEach((x, i) => (f[i] = x / total));
    }
    const zero = new Float64Array(nItems);
    const est = offPolicyEstimates(
      test,
      (r) => freq.get(r.position) ?? zero,
      () => zero,
    );
    result.check = { policy: o.checkLogs, observed_ctr: other.reduce((s, r) => s + r.click, 0) / other.length, ips: est.ips, snips: est.snips };
  }
  return result;
}
