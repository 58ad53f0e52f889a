/**
 * Rates and their intervals as everyone who shows one reads them (trainer, dashboard, simulator):
 * the 95% quantile, a rate from released (noised) counts with the noise in its interval, and when
 * an interval is too wide to say anything. Post-processing a release into possible values (a rate
 * in [0, 1], counts at least zero) costs no privacy, so every figure shown is a possible one.
 */

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/** The two-sided 95% quantile of the normal: every 95% interval of the trainer and the dashboard. */
export const Z95 = 1.959964;

/** A click rate's interval from an estimate and its variance, within [0, 1] where every click rate lies. */
export function rateInterval(estimate: number, variance: number): Interval {
  const half = Z95 * Math.sqrt(Math.max(0, variance));
  const possible = (x: number) => Math.min(1, Math.max(0, x));
  return { estimate: possible(estimate), lower: possible(estimate - half), upper: possible(estimate + half) };
}

/**
 * A rate of released (noised) counts with a 95% interval that covers both what the shoppers did
 * by chance (Wilson) and the release's Gaussian noise, `noiseVariance` on each of the two counts
 * (the sum of the rounds' count variances; delta method for the ratio). The counts are first made
 * possible: trials at least zero, successes between zero and the trials. Null when the trials do
 * not stand 3 noise deviations clear of zero: there is no rate to speak of yet.
 */
export function noisyRate(successes: number, trials: number, noiseVariance: number): Interval | null {
  const n = Math.max(0, trials);
  if (n < 1 || n <= 3 * Math.sqrt(Math.max(0, noiseVariance))) return null;
  const p = Math.min(1, Math.max(0, successes) / n);
  const z = Z95;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const sampling = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  const noise = z * Math.sqrt((Math.max(0, noiseVariance) * (1 + p * p)) / (n * n));
  const half = Math.sqrt(sampling * sampling + noise * noise);
  return { estimate: p, lower: Math.max(0, Math.min(p, centre - half)), upper: Math.min(1, Math.max(p, centre + half)) };
}

/**
 * Whether an interval says something a merchant can act on: narrower than twice its estimate (or
 * than 2 points for rates near zero). "7% (0% to 29%)" does not: what is shown instead is
 * TOO_FEW, never a confident figure the noise made up.
 */
export function sayable(interval: Interval | null): interval is Interval {
  return interval !== null && interval.upper - interval.lower <= 2 * Math.max(interval.estimate, 0.01);
}

export const TOO_FEW = 'too few shoppers yet to say';

export const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`;

/** A rate and its interval as printed, or TOO_FEW. */
export function rateText(interval: Interval | null, separator = '–'): string {
  return sayable(interval) ? `${pct(interval.estimate)} (${pct(interval.lower)}${separator}${pct(interval.upper)})` : TOO_FEW;
}
