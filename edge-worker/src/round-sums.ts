/**
 * A round's exact sums as one aggregator (shard) holds them, how the shards' sums add up into
 * the round's, and how a release is assembled from them: pure functions, so the round's
 * coordinator (round-aggregator.ts) and the tests share them. The exact sums move only between a
 * round's own Durable Objects; what leaves the coordinator is the noised release.
 */
import { OPE_SUMS } from '../../protocol/off-policy.ts';
import { COUNT_MECHANISMS, COUNT_VECTOR_MULTIPLIER, COUNT_VECTOR_SENSITIVITY } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import type { NoisedRelease } from '../../protocol/admin-answers.ts';
import { addDiscreteGaussianNoise, cryptoBytes } from '../../protocol/discrete-noise.ts';
import type { RandomBytes } from '../../protocol/discrete-noise.ts';
import { noisedRelease } from './release-noise.ts';
import type { NoiseSources } from './release-noise.ts';
import type { ModelPart } from '../../protocol/report-parts.ts';
import { addCounts, countsAt, countVector, zeroCounts } from '../../protocol/outcome-counts.ts';
import type { OutcomeCounts } from '../../protocol/outcome-counts.ts';

/** A creative's exact counts in a round (protocol/outcome-counts.ts). */
export type CreativeTotals = OutcomeCounts & { creativeId: string };

/** One aggregator's exact sums of a closed round. */
export interface ShardSums {
  contributors: number;
  totals: CreativeTotals[];
  head: { model: string; reports: number; stats: number[] } | null;
  ope: { loggingModel: string; reports: number; models: { modelVersion: string; sums: number[] }[] } | null;
  towers: { model: string; reports: number; sums: Float64Array } | null;
  /** Offsets (protocol/offsets.ts): [clicks, expected] per key (absent in shards from before offsets). */
  offsets?: { model: string; reports: number; sums: { key: string; clicks: number; expected: number }[] } | null;
}

/**
 * The fixed shape of a site's releases while a model serves: its version, the parts the site
 * collects (protocol/report-parts.ts), the length of its head statistics, its tower weights, the
 * models off-policy sums are listed for (it and its candidates), and the offsets' keys (every
 * cell and creative of the site).
 */
export interface ReleaseShape {
  model: string;
  parts: readonly ModelPart[];
  headLength: number;
  towerParameters: number;
  opeModels: string[];
  offsetKeys: string[];
}

/** The noised [contributors, head reports, off-policy reports, tower reports] a round was counted with. */
export interface NoisedCounts {
  contributors: number;
  head: number;
  ope: number;
  towers: number;
}

export const NO_SUMS: ShardSums = { contributors: 0, totals: [], head: null, ope: null, towers: null, offsets: null };

/**
 * The round's sums: every shard's added up. A part is pooled over one model (as one aggregator
 * pools it): the serving model's when `model` is given, else the first shard's; a shard whose
 * part is for another model (the serving model changed mid-round) is left out of that part.
 */
export function mergeShards(shards: readonly ShardSums[], model: string | null = null): ShardSums {
  const totals = new Map<string, CreativeTotals>();
  for (const s of shards) {
    for (const t of s.totals) {
      const sum = totals.get(t.creativeId) ?? { creativeId: t.creativeId, ...zeroCounts() };
      totals.set(t.creativeId, addCounts(sum, t) as CreativeTotals);
    }
  }
  const heads = shards.flatMap((s) => (s.head ? [s.head] : []));
  const headModel = model ?? heads[0]?.model;
  const headParts = heads.filter((h) => h.model === headModel && h.stats.length === heads.find((x) => x.model === headModel)!.stats.length);
  const head =
    headParts.length === 0 ? null : { model: headModel!, reports: sum(headParts.map((h) => h.reports)), stats: addArrays(headParts.map((h) => h.stats)) };
  const opes = shards.flatMap((s) => (s.ope ? [s.ope] : []));
  const loggingModel = model ?? opes[0]?.loggingModel;
  const opeParts = opes.filter((o) => o.loggingModel === loggingModel);
  let ope: ShardSums['ope'] = null;
  if (opeParts.length > 0) {
    const byModel = new Map<string, number[][]>();
    for (const o of opeParts) for (const m of o.models) byModel.set(m.modelVersion, [...(byModel.get(m.modelVersion) ?? []), m.sums]);
    ope = {
      loggingModel: loggingModel!,
      reports: sum(opeParts.map((o) => o.reports)),
      models: [...byModel].map(([modelVersion, list]) => ({ modelVersion, sums: addArrays(list) })),
    };
  }
  const towerList = shards.flatMap((s) => (s.towers ? [s.towers] : []));
  const towerModel = model ?? towerList[0]?.model;
  const towerParts = towerList.filter((t) => t.model === towerModel && t.sums.length === towerList.find((x) => x.model === towerModel)!.sums.length);
  let towers: ShardSums['towers'] = null;
  if (towerParts.length > 0) {
    const sums = new Float64Array(towerParts[0]!.sums.length);
    for (const t of towerParts) for (let i = 0; i < sums.length; i++) sums[i]! += t.sums[i]!;
    towers = { model: towerModel!, reports: sum(towerParts.map((t) => t.reports)), sums };
  }
  const offsetList = shards.flatMap((s) => (s.offsets ? [s.offsets] : []));
  const offsetModel = model ?? offsetList[0]?.model;
  const offsetParts = offsetList.filter((o) => o.model === offsetModel);
  let offsets: ShardSums['offsets'] = null;
  if (offsetParts.length > 0) {
    const byKey = new Map<string, { key: string; clicks: number; expected: number }>();
    for (const o of offsetParts) {
      for (const e of o.sums) {
        const acc = byKey.get(e.key) ?? { key: e.key, clicks: 0, expected: 0 };
        acc.clicks += e.clicks;
        acc.expected += e.expected;
        byKey.set(e.key, acc);
      }
    }
    offsets = { model: offsetModel!, reports: sum(offsetParts.map((o) => o.reports)), sums: [...byKey.values()] };
  }
  return { contributors: sum(shards.map((s) => s.contributors)), totals: [...totals.values()], head, ope, towers, offsets };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function addArrays(list: readonly number[][]): number[] {
  const out = new Array<number>(list[0]!.length).fill(0);
  for (const a of list) a.forEach((x, i) => (out[i]! += x));
  return out;
}

/**
 * The release of a round's sums: Gaussian noise calibrated to the clipping bounds on every
 * per-creative count (over `creativeIds`, the site's creatives, zeros included, so which
 * creatives had any report is not revealed) and on every model part, with the counts the round
 * was counted with. With a serving model (`shape`) every part is released, zeros plus noise where
 * no device sent one, so a release does not tell whether any device sent a head, off-policy sums
 * or a gradient, nor which candidate models had decisions; and every part is charged.
 */
export function releaseOf(
  exact: ShardSums,
  counts: NoisedCounts,
  creativeIds: readonly string[],
  shape: ReleaseShape | null,
  privacy: PrivacyTerms,
  sources?: NoiseSources,
): NoisedRelease {
  const z = privacy.noiseMultiplier;
  const exactTotals = new Map(exact.totals.map((t) => [t.creativeId, t]));
  const ids = [...new Set(creativeIds)].sort();
  const row = (id: string) => exactTotals.get(id) ?? zeroCounts();
  // Each part: what devices sent, or (with a serving model) zeros of its shape. A part the site
  // does not collect now (shape.parts) is not released, whatever was sent: nothing of it leaves.
  const collects = (part: ModelPart) => !shape || shape.parts.includes(part);
  const headRow = !collects('head') ? null : (exact.head ?? (shape && { model: shape.model, reports: 0, stats: new Array<number>(shape.headLength).fill(0) }));
  const opeRow = !collects('ope') ? null : (exact.ope ?? (shape && { loggingModel: shape.model, reports: 0, models: [] }));
  const opeSums = new Map((exact.ope?.models ?? []).map((m) => [m.modelVersion, m.sums]));
  // The models listed: the serving model and its candidates when they logged the round (a fixed
  // list, zeros for a model nothing was reported for); otherwise what was reported.
  const opeModels = !opeRow ? [] : shape && opeRow.loggingModel === shape.model ? [...shape.opeModels].sort() : [...opeSums.keys()].sort();
  const towerRow = !collects('towers') ? null : (exact.towers ?? (shape && { model: shape.model, reports: 0, sums: new Float64Array(shape.towerParameters) }));
  // Offsets: released only with a shape (every key of the site, zeros where nothing was sent).
  const offsetRow =
    shape && collects('offsets') ? { model: exact.offsets?.model ?? shape.model, sums: new Map((exact.offsets?.sums ?? []).map((e) => [e.key, e])) } : null;
  const offsetKeys = offsetRow ? [...shape!.offsetKeys].sort() : [];
  // The noise, all of it drawn here at once (release-noise.ts: discrete for counts, snapped for reals).
  const noised = noisedRelease(
    {
      counts: ids.flatMap((id) => countVector(row(id))),
      head: headRow ? headRow.stats : null,
      ope: opeModels.map((m) => opeSums.get(m) ?? new Array<number>(OPE_SUMS).fill(0)),
      towers: towerRow ? towerRow.sums : null,
      offsets: offsetRow ? offsetKeys.flatMap((k) => [offsetRow.sums.get(k)?.clicks ?? 0, offsetRow.sums.get(k)?.expected ?? 0]) : null,
    },
    privacy,
    sources,
  );
  const totals = ids.map((creativeId, i) => ({ creativeId, ...countsAt(noised.counts, i) }));
  const head = headRow ? { modelVersion: headRow.model, reports: counts.head, stats: noised.head! } : null;
  const ope =
    opeRow && opeModels.length > 0
      ? { modelVersion: opeRow.loggingModel, reports: counts.ope, models: opeModels.map((m, i) => ({ modelVersion: m, sums: noised.ope[i]! })) }
      : null;
  const towers = towerRow ? { modelVersion: towerRow.model, reports: counts.towers, sums: noised.towers! } : null;
  const offsets = offsetRow
    ? { modelVersion: offsetRow.model, entries: offsetKeys.map((key, i) => ({ key, clicks: noised.offsets![2 * i]!, expected: noised.offsets![2 * i + 1]! })) }
    : null;
  return {
    contributors: counts.contributors,
    totals,
    head,
    ope,
    towers,
    offsets,
    noise: {
      multiplier: z,
      countStd: z * privacy.countClip,
      headStd: z * privacy.headClip,
      opeStd: z * privacy.opeClip,
      towerStd: z * privacy.towerClip,
      offsetStd: z * privacy.offsetClip,
      reportsStd: countVectorStd(z),
    },
    mechanisms: sumsMechanisms(head, ope, towers, offsets) + COUNT_MECHANISMS,
    valueUnit: privacy.valueUnit,
  };
}

/** The Gaussian mechanisms of a release's sums: per-creative counts, and each model part present. */
export function sumsMechanisms(...parts: unknown[]): number {
  return 1 + parts.filter((p) => p !== null).length;
}

/** The standard deviation of the count vector's noise (protocol/privacy.ts COUNT_VECTOR_MULTIPLIER). */
export function countVectorStd(z: number): number {
  return COUNT_VECTOR_SENSITIVITY * COUNT_VECTOR_MULTIPLIER * z;
}

/**
 * The round's count vector, noised (discrete Gaussian, exact integers): what its cohort check is
 * made on and what its release says of how many devices sent what. No exact count leaves.
 */
export function noisedCounts(exact: ShardSums, z: number, bytes: RandomBytes = cryptoBytes): NoisedCounts {
  const [contributors, head, ope, towers] = addDiscreteGaussianNoise(
    [exact.contributors, exact.head?.reports ?? 0, exact.ope?.reports ?? 0, exact.towers?.reports ?? 0],
    countVectorStd(z),
    bytes,
  ) as [number, number, number, number];
  return { contributors, head, ope, towers };
}
