/**
 * A report's model parts, checked at the edge before anything is added: shapes against the model
 * serving now, the clipping bounds the round's noise is calibrated to, off-policy entries of known
 * models only, offsets keyed by the site's own catalog. What a hostile client sends beyond these
 * is refused with a reason (422), never summed.
 */
import { offsetValues } from '../../protocol/offsets.ts';
import { UNIFORM_POLICY } from '../../protocol/off-policy.ts';
import { headStatsLength } from '../../protocol/head-statistics.ts';
import { l2Norm, withinBound } from '../../protocol/privacy.ts';
import type { PrivacyTerms } from '../../protocol/privacy.ts';
import { dequantizeGradient } from '../../protocol/tower-gradient.ts';
import type { Report } from '../../protocol/wire.ts';
import { HttpError } from './http-error.ts';
import type { CheckedModelParts } from './round-contract.ts';
import { cachedReportModels } from './site-cache.ts';
import type { SiteRow } from './site-store.ts';

/**
 * The report's model parts, checked against the model serving now: the right shapes (422
 * otherwise) and within the clipping bounds the noise is calibrated to (422 otherwise). A device
 * on an older model gets its counts taken and its model parts (another model's features) left
 * out: null, and the answer says so. Off-policy entries of models that are neither serving nor a
 * candidate are left out.
 */
export async function checkedModelParts(db: D1Database, site: SiteRow, report: Report, privacy: PrivacyTerms): Promise<CheckedModelParts | null> {
  if (!report.head && !report.ope && !report.towers && !report.offsets) return null;
  const serving = await cachedReportModels(db, site.id);
  if (!serving || report.modelVersion !== serving.version) return null;
  const overClip = (what: string, norm: number, bound: number) => {
    if (!withinBound(norm, bound)) throw new HttpError(422, 'over_clip', `${what} has L2 norm ${norm.toFixed(3)}, above the bound ${bound}`);
  };
  let head: number[] | null = null;
  if (report.head) {
    if (report.head.stats.length !== headStatsLength(serving.dim)) {
      throw new HttpError(
        422,
        'wrong_shape',
        `head.stats has ${report.head.stats.length} numbers; model ${serving.version} needs ${headStatsLength(serving.dim)}`,
      );
    }
    overClip('head.stats', l2Norm(report.head.stats), privacy.headClip);
    head = report.head.stats;
  }
  let ope: CheckedModelParts['ope'] = null;
  if (report.ope) {
    overClip('ope', l2Norm(report.ope.flatMap((e) => e.sums)), privacy.opeClip);
    if (new Set(report.ope.map((e) => e.modelVersion)).size !== report.ope.length) throw new HttpError(422, 'invalid_body', 'ope lists a model twice');
    // Sums of weights and clicks are never negative; only a candidate's paired sums (of w - 1) may be (protocol/off-policy.ts).
    for (const e of report.ope) {
      const paired = e.modelVersion !== report.modelVersion && e.modelVersion !== UNIFORM_POLICY;
      if (e.sums[0]! < 0 || (!paired && e.sums.some((x) => x < 0))) {
        throw new HttpError(422, 'invalid_body', `ope sums of ${e.modelVersion} must not be negative${paired ? ' (its count)' : ''}`);
      }
    }
    const known = new Set([serving.version, ...serving.candidates, UNIFORM_POLICY]);
    ope = report.ope.filter((e) => known.has(e.modelVersion));
    if (!ope.some((e) => e.modelVersion === serving.version)) ope = null; // no logging-policy entry: nothing to compare with
  }
  let towers: Float64Array | null = null;
  if (report.towers) {
    towers = dequantizeGradient(report.towers);
    if (!towers || towers.length !== serving.towerParameters) {
      throw new HttpError(422, 'wrong_shape', `towers.q holds ${towers?.length ?? 'no'} weights; model ${serving.version} has ${serving.towerParameters}`);
    }
    overClip('towers', l2Norm(towers), privacy.towerClip);
  }
  let offsets: CheckedModelParts['offsets'] = null;
  if (report.offsets) {
    // Keys of the site's own catalog only: a key is a cell or a creative every release lists, never anything else.
    const allowed = new Set(serving.offsetKeys);
    offsets = [
      ...Object.entries(report.offsets.cells).map(([cell, [clicks, expected]]) => ({ key: `cell:${cell}`, clicks: clicks!, expected: expected! })),
      ...Object.entries(report.offsets.creatives).map(([id, [clicks, expected]]) => ({ key: `creative:${id}`, clicks: clicks!, expected: expected! })),
    ];
    const unknown = offsets.find((e) => !allowed.has(e.key));
    if (unknown) throw new HttpError(422, 'wrong_shape', `offsets: ${unknown.key} is not a cell or creative of site ${site.id}`);
    overClip('offsets', l2Norm(offsetValues(report.offsets)), privacy.offsetClip);
  }
  return { model: serving.version, head, ope, towers, offsets };
}
