/**
 * Turning logged outcomes into the device's one report per round, exactly once.
 *
 * One readwrite transaction over decisions, outbox and ledger: if the ledger already holds this
 * round, nothing happens (outcomes wait for the next round); otherwise every outcome not yet
 * reported is marked reported, summed into per-creative counts and, for decisions made under
 * the serving model, into the last layer's sufficient statistics, the off-policy sums of the
 * serving and candidate models and the towers' gradient; each part is clipped to the config's
 * bound; the report goes into the outbox and the round into the ledger. So an outcome
 * is in exactly one report and a device in at most one report per round, even with several
 * tabs. The report keeps its random id until the edge acknowledges it; retries reuse the id and
 * the round's Durable Object counts it once.
 */
import { COUNT_FIELDS, countsAt, countVector, valueUnits, zeroCounts } from '../../protocol/outcome-counts.ts';
import type { OutcomeCounts } from '../../protocol/outcome-counts.ts';
import { CROSS_DIM } from '../../protocol/features.ts';
import type { ModelTopology } from '../../protocol/model-artifact.ts';
import { addToOpeSums, addToPairedSums, importanceWeight, OPE_SUMS, UNIFORM_POLICY } from '../../protocol/off-policy.ts';
import { clipCounts, clipTarget, clipToNorm } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import { quantizeGradient, TOWER_WEIGHT_CAP, towerGradient } from '../../protocol/tower-gradient.ts';
import type { TowerExample } from '../../protocol/tower-gradient.ts';
import { MAX_REPORT_BYTES } from '../../protocol/wire.ts';
import type { Report } from '../../protocol/wire.ts';
import type { DecisionRecord, DeviceDB, OutboxEntry } from './device-store.ts';
import { headStatistics } from '../../protocol/head-statistics.ts';
import { expectedClick } from '../../protocol/offsets.ts';
import type { ModelPart } from '../../protocol/report-parts.ts';

const MAX_OUTCOMES_PER_REPORT = 100;

/** The serving model as far as a report needs it (the scoring model satisfies this). */
export interface ReportingModel {
  version: string;
  topology: ModelTopology;
  towerWeights: ArrayLike<number>;
  mean: ArrayLike<number>;
}

/**
 * Five significant digits, truncated towards zero (so no entry grows and the clipped norm stays
 * under its bound): what the trainer needs, in under half the bytes of a full double. A device's
 * entry moves by under 1e-4 of itself (so by under 1e-4 of its part's bound), against release
 * noise of z (5 or more) times that bound on every summed coordinate. (Six digits put the heaviest report over 16 kB once the head's bound
 * fell from 40 to 10: smaller entries are written with more leading zeros.)
 */
function compact(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return 0;
  const scale = 10 ** (4 - Math.floor(Math.log10(Math.abs(x))));
  return Math.trunc(x * scale) / scale;
}

function opeSums(ope: Map<string, Float64Array>, version: string): Float64Array {
  let sums = ope.get(version);
  if (!sums) {
    sums = new Float64Array(OPE_SUMS);
    ope.set(version, sums);
  }
  return sums;
}

function shown(d: DecisionRecord): boolean {
  return d.impression || d.click;
}

const DAY_MS = 86_400_000;

/** What one report gathers from the decision log, decision by decision (OutcomesCollector.add). */
class OutcomesCollector {
  readonly counts = new Map<string, OutcomeCounts>();
  readonly examples: { phi: number[]; reward: number }[] = [];
  readonly towerExamples: (TowerExample & { cross: Float32Array })[] = [];
  readonly ope = new Map<string, Float64Array>();
  /** [clicks, expected clicks] per cell and per creative (protocol/offsets.ts). */
  readonly cells = new Map<string, [number, number]>();
  readonly creatives = new Map<string, [number, number]>();
  dim = 0;

  constructor(
    private readonly model: ReportingModel | null,
    /** The site's currency per unit of revenue (protocol/privacy.ts valueUnit). */
    private readonly valueUnit: number,
  ) {}

  private get modelVersion(): string | null {
    return this.model?.version ?? null;
  }

  /** Takes the decision's unreported outcomes if the report has room for its creative; says whether it did. */
  add(d: DecisionRecord): { unreported: boolean; taken: boolean } {
    const newImpression = d.impression && !d.reported.impression;
    const newClick = d.click && !d.reported.click;
    const newConversion = !!d.conversion && !d.reported.conversion;
    const newDismissal = !!d.dismissal && !d.reported.dismissal;
    const unreported = newImpression || newClick || newConversion || newDismissal;
    const taken = unreported && (this.counts.has(d.creativeId) || this.counts.size < MAX_OUTCOMES_PER_REPORT);
    if (!taken) return { unreported, taken };
    const c = this.counts.get(d.creativeId) ?? zeroCounts();
    if (newImpression) c.impressions += 1;
    if (newClick) c.clicks += 1;
    if (newConversion) {
      c.conversions += 1;
      c.value += valueUnits(d.orderValue ?? 0, this.valueUnit, Math.random);
    }
    if (newDismissal) c.dismissals += 1;
    this.counts.set(d.creativeId, c);
    // One example per shown decision, the first time it is reported; its reward is the click
    // (a click reported later, after an impression already reported, is not re-counted).
    const first = !d.reported.impression && !d.reported.click && !d.reported.conversion && !d.reported.dismissal;
    if (first && shown(d) && this.modelVersion !== null && d.modelVersion === this.modelVersion && d.phi) this.addExample(d, d.phi, this.modelVersion);
    return { unreported, taken };
  }

  private addExample(d: DecisionRecord, phi: number[], modelVersion: string): void {
    const reward = d.click ? 1 : 0;
    // The last layer learns "not interested" as worse than being ignored: reward -1. (The
    // off-policy sums and the towers keep the click as reward: their estimators assume 0/1.)
    this.examples.push({ phi, reward: d.dismissal && !d.click ? -1 : reward });
    this.dim = phi.length;
    // The offsets' clicks against the clicks the serving model's head expected here.
    if (d.cell && this.model && phi.length === this.model.mean.length) {
      const expected = d.expected ?? expectedClick(phi, this.model.mean);
      for (const [map, key] of [
        [this.cells, d.cell],
        [this.creatives, d.creativeId],
      ] as const) {
        const pair = map.get(key) ?? [0, 0];
        pair[0] += reward;
        pair[1] += expected;
        map.set(key, pair);
      }
    }
    addToOpeSums(opeSums(this.ope, modelVersion), reward, 1); // the serving model's own entry: its on-policy click rate
    // Each candidate paired with the serving model on the same decision (its difference is what the gate tests).
    for (const [version, pi] of Object.entries(d.candidatePi ?? {})) addToPairedSums(opeSums(this.ope, version), reward, importanceWeight(pi, d.propensity));
    // Uniform random over the eligible creatives: the click rate without personalization.
    if (d.eligibleCount) addToOpeSums(opeSums(this.ope, UNIFORM_POLICY), reward, importanceWeight(1 / d.eligibleCount, d.propensity));
    if (d.shopperRow && d.creativeRow && d.crossRow?.length === CROSS_DIM && d.eligibleCount) {
      const shopper = Float32Array.from(d.shopperRow);
      const creative = Float32Array.from(d.creativeRow);
      const cross = Float32Array.from(d.crossRow);
      this.towerExamples.push({ shopper, creative, cross, reward, weight: Math.min(1 / (d.eligibleCount * d.propensity), TOWER_WEIGHT_CAP) });
    }
  }
}

/**
 * The report of what was collected: counts clipped, each model part clipped to its bound, the
 * whole at most 16 kB (the optional parts go, the least needed first). Null when nothing was.
 */
function reportOf(
  collected: OutcomesCollector,
  round: number,
  model: ReportingModel | null,
  privacy: PrivacyTerms,
  parts: readonly ModelPart[],
): Report | null {
  const { counts, examples, ope, towerExamples, dim, cells, creatives } = collected;
  if (counts.size === 0) return null;
  const ids = [...counts.keys()];
  // Each count at most 1,000 (the report's schema), then the creative's counts clipped together.
  const clipped = clipCounts(
    ids.flatMap((id) => countVector(counts.get(id)!).map((n) => Math.min(n, 1000))),
    privacy.countClip,
  );
  // Revenue is left out where it is 0 (the schema's default): the heaviest device's report keeps
  // its head statistics under 16 kB, and a report without revenue reads as it always did.
  const outcomes = ids
    .map((creativeId, i) => ({ creativeId, ...countsAt(clipped, i) }))
    .filter((o) => COUNT_FIELDS.some((f) => o[f] > 0))
    .map(({ value, ...rest }) => (value > 0 ? { ...rest, value } : rest)) as Report['outcomes'];
  const report: Report = {
    v: 1,
    reportId: crypto.randomUUID(),
    round,
    modelVersion: model?.version ?? null,
    outcomes:
      outcomes.length > 0 ? outcomes : [{ creativeId: ids[0]!, impressions: 0, clicks: 0, conversions: 0, dismissals: 0 } as Report['outcomes'][number]],
  };
  // Each part the config asks for (the site's scale decides: report-parts.ts), clipped a hair
  // under its bound: float rounding in the scaling cannot push the norm past it.
  if (parts.includes('head') && examples.length > 0) {
    const stats = clipToNorm(headStatistics(examples, dim), clipTarget(privacy.headClip));
    report.head = { stats: Array.from(stats, compact) };
  }
  if (parts.includes('ope') && ope.size > 0) {
    const versions = [...ope.keys()];
    const joint = clipToNorm(Float64Array.from(versions.flatMap((v) => Array.from(ope.get(v)!))), clipTarget(privacy.opeClip));
    report.ope = versions.map((modelVersion, i) => ({ modelVersion, sums: Array.from(joint.subarray(i * OPE_SUMS, (i + 1) * OPE_SUMS), compact) }));
  }
  if (parts.includes('towers') && model && towerExamples.length > 0) {
    const gradient = clipToNorm(towerGradient(model.towerWeights, model.topology, model.mean, towerExamples), clipTarget(privacy.towerClip));
    // Rows logged under another feature layout would give NaN: such a gradient is not sent.
    if (gradient.every(Number.isFinite)) report.towers = quantizeGradient(gradient);
  }
  if (parts.includes('offsets') && cells.size > 0) {
    const cellKeys = [...cells.keys()];
    const creativeKeys = [...creatives.keys()];
    const joint = clipToNorm(
      Float64Array.from([...cellKeys.flatMap((k) => cells.get(k)!), ...creativeKeys.flatMap((k) => creatives.get(k)!)]),
      clipTarget(privacy.offsetClip),
    );
    const pair = (i: number): [number, number] => [compact(joint[2 * i]!), compact(joint[2 * i + 1]!)];
    report.offsets = {
      cells: Object.fromEntries(cellKeys.map((k, i) => [k, pair(i)])),
      creatives: Object.fromEntries(creativeKeys.map((k, i) => [k, pair(cellKeys.length + i)])),
    };
  }
  for (const part of ['towers', 'head', 'offsets', 'ope'] as const) if (JSON.stringify(report).length > MAX_REPORT_BYTES) delete report[part];
  return report;
}

/**
 * `keepDays`: how long a decision is kept once everything about it is reported (the attribution
 * window plus a day: a purchase may still convert a click until then, and the frequency cap counts
 * the last day's impressions). Older, fully reported decisions are deleted in the same pass:
 * nothing needs them any more, and the device keeps no more than it must.
 */
export async function moveOutcomesToOutbox(
  db: DeviceDB,
  round: number,
  model: ReportingModel | null,
  privacy: PrivacyTerms,
  now: number,
  keepDays = 8,
  parts: readonly ModelPart[] = ['head', 'ope', 'towers'],
): Promise<OutboxEntry | null> {
  const tx = db.transaction(['decisions', 'outbox', 'ledger'], 'readwrite');
  if (await tx.objectStore('ledger').get(round)) {
    await tx.done;
    return null;
  }
  const collected = new OutcomesCollector(model, privacy.valueUnit);
  let cursor = await tx.objectStore('decisions').openCursor();
  while (cursor) {
    const d = cursor.value;
    const { unreported, taken } = collected.add(d);
    if ((taken || !unreported) && d.at < now - keepDays * DAY_MS) await cursor.delete();
    else if (taken) await cursor.update({ ...d, reported: { impression: d.impression, click: d.click, conversion: !!d.conversion, dismissal: !!d.dismissal } });
    cursor = await cursor.continue();
  }
  // Built synchronously, inside the transaction: the outbox entry and the ledger row are written
  // with the decisions marked reported, or none of it is.
  const report = reportOf(collected, round, model, privacy, parts);
  if (!report) {
    await tx.done;
    return null;
  }
  const entry: OutboxEntry = { reportId: report.reportId, report, createdAt: now, attempts: 0 };
  await tx.objectStore('outbox').put(entry);
  await tx.objectStore('ledger').put({ round, reportId: report.reportId, at: now });
  await tx.done;
  return entry;
}

/**
 * What to do with an outbox entry after the edge answered. 2xx: acknowledged (a duplicate is
 * an acknowledgement too). 409 round_closed: re-target to the open round, same id. 401 or 409
 * token_spent: the token is refused, the report waits for another. Other 4xx:
 * the edge will never take it; drop it rather than retry forever. 5xx / network: keep, retry.
 */
export function outboxAction(
  status: number,
  body: string,
): { kind: 'delete' } | { kind: 'retarget'; round: number } | { kind: 'new_token' } | { kind: 'keep' } {
  if (status >= 200 && status < 300) return { kind: 'delete' };
  let answer: { openRound?: unknown; error?: unknown } = {};
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    // an unreadable answer is handled by its status alone
  }
  // The report's token was refused (missing, not this round's, or spent): the report waits for a new one.
  if (status === 401 || (status === 409 && answer.error === 'token_spent')) return { kind: 'new_token' };
  if (status === 409) return typeof answer.openRound === 'number' ? { kind: 'retarget', round: answer.openRound } : { kind: 'keep' };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'delete' };
  return { kind: 'keep' };
}
