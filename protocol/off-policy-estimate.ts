/**
 * Federated off-policy evaluation: from the noised off-policy sums of released rounds
 * (protocol/off-policy.ts) to an estimate, with a 95% interval, of how each candidate model's
 * policy would have done on the decisions the serving model made, beside the serving model's own
 * click rate on them. Then the gate: a candidate is promoted automatically only when its lower
 * bound beats the serving model's estimate.
 *
 * Estimator: self-normalized IPS, V = sum r w / sum w. Its variance by the delta method over
 * decisions, sum w^2 (r - V)^2 / (sum w)^2, is computable from the sums alone because r is 0 or 1
 * (sum w^2 r^2 = sum r w^2); the release noise adds sigma^2 (1 + V^2) / (sum w)^2 (first-order,
 * sigma^2 the summed noise variance of each coordinate). Treating decisions as independent
 * ignores that one device makes several; with the per-device clipping bounding each device's
 * share, that understates the interval somewhat, which is why the gate also refuses intervals too
 * wide to mean anything. The gate itself tests the paired difference with a confidence
 * sequence (promotion-gate.ts): asked after every round, it stays valid at every look.
 * A candidate's entries are paired with the serving model's (protocol/off-policy.ts): its own
 * rate is the serving rate plus that difference.
 */
import { OPE_SUMS, UNIFORM_POLICY } from './off-policy.ts';
import { rateInterval } from './rate-interval.ts';
import type { Interval } from './rate-interval.ts';
import { confidenceSequence, pairedDifference } from './promotion-gate.ts';
import type { PairedDifference, Sequence } from './promotion-gate.ts';

/**
 * SNIPS estimate and interval from pooled sums [n, sum r w, sum w, sum r w^2, sum w^2] carrying
 * independent noise of variance `noiseVariance` per coordinate; null when the weights' sum does not
 * stand clear of the noise (then there is nothing to estimate).
 */
export function snipsFromSums(sums: readonly number[], noiseVariance: number): Interval | null {
  const e = snips(sums, noiseVariance);
  return e && rateInterval(e.value, e.variance);
}

function snips(sums: readonly number[], noiseVariance: number): { value: number; variance: number } | null {
  if (sums.length !== OPE_SUMS) throw new Error(`off-policy sums have ${OPE_SUMS} entries, got ${sums.length}`);
  const [, a, b, c, d] = sums as [number, number, number, number, number];
  if (!(b > 3 * Math.sqrt(noiseVariance)) || !(b > 0)) return null;
  const value = a / b;
  const sampling = Math.max(0, c - 2 * value * c + value * value * d) / (b * b);
  const noise = (noiseVariance * (1 + value * value)) / (b * b);
  return { value, variance: sampling + noise };
}

/**
 * The candidate's own click rate, the serving rate plus the paired difference (a candidate's entry
 * holds only the difference: protocol/off-policy.ts). The two estimates are correlated (the same
 * clicks); their standard deviations are added, the widest their sum's can be, so the interval
 * never claims more than it knows.
 */
function candidateRate(serving: { value: number; variance: number }, paired: PairedDifference): Interval {
  const sd = Math.sqrt(serving.variance) + Math.sqrt(paired.variance);
  return rateInterval(Math.min(1, Math.max(0, serving.value + paired.estimate)), sd * sd);
}

export interface PooledSums {
  sums: number[];
  noiseVariance: number;
  rounds: number[];
}

/** A released round's off-policy part, as the trainer saved it. */
export interface ReleasedOpe {
  round: number;
  loggingModel: string;
  models: { modelVersion: string; sums: number[] }[];
  noiseStd: number;
}

/**
 * Whether devices scored `modelVersion` in this released round. Releases have a fixed shape
 * (every candidate of the site and the uniform baseline listed, zeros plus noise where no device
 * scored it), so "listed" is not enough: its decision count must stand 3 noise deviations clear
 * of zero, as it does when devices scored it.
 */
export function scoredIn(round: ReleasedOpe, modelVersion: string): boolean {
  return (round.models.find((m) => m.modelVersion === modelVersion)?.sums[0] ?? 0) > 3 * round.noiseStd;
}

export function pool(rounds: readonly ReleasedOpe[], modelVersion: string): PooledSums {
  const sums = new Array<number>(OPE_SUMS).fill(0);
  let noiseVariance = 0;
  const used: number[] = [];
  for (const r of rounds) {
    const entry = r.models.find((m) => m.modelVersion === modelVersion);
    if (!entry) continue;
    entry.sums.forEach((x, i) => (sums[i]! += x));
    noiseVariance += r.noiseStd * r.noiseStd;
    used.push(r.round);
  }
  return { sums, noiseVariance, rounds: used };
}

export type Verdict = 'better' | 'not_better' | 'too_wide' | 'insufficient';

export interface CandidateEvaluation {
  candidate: string;
  serving: string;
  rounds: number[];
  /** Decisions the estimate rests on (noised count). */
  decisions: number;
  candidateValue: Interval | null;
  servingValue: Interval | null;
  /** Candidate minus serving on the same decisions, an interval valid at every look (promotion-gate.ts): what the verdict rests on. */
  difference: Sequence | null;
  /** The share (0 to 1) of the difference's variance that is release noise rather than the decisions' sampling; null without an estimate. */
  noiseShare: number | null;
  verdict: Verdict;
  reason: string;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * Each candidate evaluated in released rounds whose decisions `serving` made, against `serving`
 * on the same rounds. Verdicts rest on the paired difference's anytime-valid interval: better
 * (its lower bound above zero: the only one that promotes automatically), too_wide (the interval
 * is wider than the serving click rate itself), not_better, insufficient (too few decisions).
 */
export function evaluateCandidates(released: readonly ReleasedOpe[], serving: string): CandidateEvaluation[] {
  const mine = released.filter((r) => r.loggingModel === serving);
  // The uniform random policy is listed as a baseline (UNIFORM_POLICY), never as a candidate.
  const candidates = [...new Set(mine.flatMap((r) => r.models.map((m) => m.modelVersion)))].filter((v) => v !== serving && v !== UNIFORM_POLICY).sort();
  return candidates.map((candidate) => {
    // Rounds the candidate was evaluated in (scoredIn: "listed" is not enough).
    const rounds = mine.filter((r) => scoredIn(r, candidate));
    const c = pool(rounds, candidate);
    const s = pool(rounds, serving);
    const servingSnips = snips(s.sums, s.noiseVariance);
    const servingValue = servingSnips && rateInterval(servingSnips.value, servingSnips.variance);
    const paired = pairedDifference(c.sums, s.sums, c.noiseVariance, s.noiseVariance);
    const difference = paired && confidenceSequence(paired);
    const candidateValue = servingSnips && paired && candidateRate(servingSnips, paired);
    // How much of the interval's width the release noise makes (the rest is the decisions' own
    // sampling): what a larger budget, or a tighter off-policy bound, could still narrow.
    const noiseShare = paired && paired.variance > 0 ? paired.noiseVariance / paired.variance : null;
    const base = { candidate, serving, rounds: c.rounds, decisions: Math.round(c.sums[0]!), candidateValue, servingValue, difference, noiseShare };
    if (!candidateValue || !servingValue || !difference) {
      return {
        ...base,
        verdict: 'insufficient' as const,
        reason: `too few decisions in rounds ${c.rounds.join(', ') || '(none)'} to estimate; wait for more rounds`,
      };
    }
    const points = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
    const iv = `${pct(candidateValue.estimate)} against the serving model's ${pct(servingValue.estimate)}, a difference of ${points(difference.estimate)} points [${points(difference.lower)}, ${points(difference.upper)}] (valid at every look; release noise ${Math.round(100 * (noiseShare ?? 0))}% of its variance)`;
    if (difference.lower > 0) {
      return { ...base, verdict: 'better' as const, reason: `estimated click rate ${iv}: better` };
    }
    if (difference.upper - difference.lower > Math.max(servingValue.estimate, 1e-3)) {
      return { ...base, verdict: 'too_wide' as const, reason: `estimated click rate ${iv}: too uncertain to judge; wait for more rounds` };
    }
    return { ...base, verdict: 'not_better' as const, reason: `estimated click rate ${iv}: not shown to be better` };
  });
}

/**
 * Which listed candidates to stop evaluating after the gate's look. Devices score at most
 * MAX_CANDIDATE_MODELS candidates, the newest first, so without this each fit pushes the one
 * before it out after two rounds, and no candidate gathers the looks its interval needs to
 * narrow. Kept: the leader and every candidate not yet scored; retired: the other scored ones.
 * The leader is among the listed candidates estimated better than the serving model (one
 * estimated worse only narrows towards never being promoted): the one with the highest lower
 * bound, unless another's estimate is above that one's upper bound, when the best such
 * challenger leads. By lower bound alone, the candidate with the most looks held the slot for
 * ever: in a 15-round simulation an early candidate at +0.4 points [-0.1, +0.9] kept it from
 * round 5 on, while later fits estimated +1.1 to +2.1 at their one look were retired after it
 * and nothing was promoted again (docs/lab/learning-at-a-small-shop.md).
 * After a promotion every other candidate goes (they were fitted on, and judged against, the
 * model that no longer serves).
 */
export function candidatesToRetire(evaluations: readonly CandidateEvaluation[], listed: readonly string[], promoted: string | null): string[] {
  if (promoted) return listed.filter((v) => v !== promoted);
  const scored = new Map(evaluations.filter((e) => e.rounds.length > 0).map((e) => [e.candidate, e]));
  const contenders = listed.flatMap((v) => {
    const difference = scored.get(v)?.difference;
    return difference && difference.estimate > 0 ? [{ candidate: v, ...difference }] : [];
  });
  const steady = [...contenders].sort((a, b) => b.lower - a.lower)[0];
  const challenger = [...contenders].sort((a, b) => b.estimate - a.estimate)[0];
  const leader = steady && challenger && challenger.estimate > steady.upper ? challenger.candidate : steady?.candidate;
  return listed.filter((v) => scored.has(v) && v !== leader);
}

/**
 * The automatic gate's look (the trainer's `promote --auto`): among the listed candidates shown
 * better than the serving model (the paired difference's lower bound above zero), the one with
 * the highest bound is promoted, none otherwise; then candidatesToRetire. A retired candidate is
 * no longer scored by devices, so its figures stay frozen at its last look: it is neither
 * promoted nor among the evaluations the look reports.
 */
export function gateLook(
  pulled: readonly CandidateEvaluation[],
  listed: readonly string[],
): { evaluations: CandidateEvaluation[]; promote: string | null; retire: string[] } {
  const evaluations = pulled.filter((e) => listed.includes(e.candidate));
  const better = evaluations.filter((e) => e.verdict === 'better').sort((a, b) => b.difference!.lower - a.difference!.lower)[0];
  const promote = better?.candidate ?? null;
  return { evaluations, promote, retire: candidatesToRetire(evaluations, listed, promote) };
}

/** The serving model's click rate against uniform random on the same decisions (the dashboard's lift view; the simulator reports it too). */
export interface Lift {
  model: string;
  rounds: number[];
  personalized: Interval | null;
  uniform: Interval | null;
}

/**
 * From released rounds logged by `model`: its own off-policy entry (its on-policy click rate) and
 * the uniform policy's entry, pooled over the rounds devices scored it in (scoredIn).
 */
export function liftOver(released: readonly ReleasedOpe[], model: string): Lift {
  const mine = released.filter((r) => r.loggingModel === model);
  const served = pool(mine, model);
  const scored = mine.filter((r) => scoredIn(r, UNIFORM_POLICY));
  const uniform = pool(scored, UNIFORM_POLICY);
  return {
    model,
    rounds: served.rounds,
    personalized: snipsFromSums(served.sums, served.noiseVariance),
    uniform: scored.length > 0 ? snipsFromSums(uniform.sums, uniform.noiseVariance) : null,
  };
}
