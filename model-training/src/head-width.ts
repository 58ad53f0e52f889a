/**
 * How wide a candidate's last layer explores, by whether the site's rounds release head
 * statistics (protocol/report-parts.ts).
 *
 * A site that releases none can never learn the last layer, so exploring its prior's full width
 * only costs clicks (about 4 points of the oracle at a small shop): its candidates narrow the
 * head's covariance to UNLEARNABLE_HEAD_VARIANCE of the fitted posterior's. That share is taken
 * against the posterior, never against the serving model: each candidate is fitted on the model
 * serving, so narrowing relative to it compounded with every promotion (1e-6 of the width after
 * three). That compounding was suspected of the late decline in 30-round simulations; narrowing
 * once did not remove the decline (docs/lab/learning-at-a-small-shop.md), so it is done once
 * because a width should not depend on how many promotions came before, not as that fix.
 * A site that releases head statistics again gets the posterior's full width back first.
 */

/** The share of its fitted posterior's variance a head keeps where the site learns no head (sd x 0.1). */
export const UNLEARNABLE_HEAD_VARIANCE = 0.01;

/** The fitted posterior's covariance behind a model's head: its narrowing (`scale`, absent when 1) undone. */
export function posteriorWidth(covariance: Float32Array, scale: number | undefined): Float32Array {
  return scale === undefined || scale === 1 ? covariance.slice() : covariance.map((x) => x / scale);
}

/**
 * A candidate's head covariance from its posterior's, and the scale to record with it
 * (ModelJson.headVarianceScale, undefined when 1). `learnsHead`: the site's rounds release head
 * statistics, so the posterior keeps its full width.
 */
export function candidateHeadWidth(posterior: Float32Array, learnsHead: boolean): { covariance: Float32Array; scale: number | undefined } {
  if (learnsHead) return { covariance: posterior.slice(), scale: undefined };
  return { covariance: posterior.map((x) => x * UNLEARNABLE_HEAD_VARIANCE), scale: UNLEARNABLE_HEAD_VARIANCE };
}
