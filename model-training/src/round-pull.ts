/**
 * The trainer's pull: what a pull would charge (`planPull`, spending nothing), releasing and saving
 * closed rounds (`pullRounds`, never before the site's first), and reading the saved rounds back
 * by part for the fit and the evaluation. Saved under the state directory, one folder per site.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RoundAnswer } from '../../protocol/admin-answers.ts';
import type { ReleasedOpe } from '../../protocol/off-policy-estimate.ts';
import type { EdgeAdminClient } from './edge-admin-client.ts';
import { EdgeError } from './edge-admin-client.ts';
import type { ReleasedOffsets } from './offset-fit.ts';
import { progress } from './progress.ts';
import type { ReleasedHead } from './round-statistics.ts';

export interface TrainerPaths {
  rounds: string;
  candidates: string;
}

export function trainerPaths(stateDir: string, site: string): TrainerPaths {
  return { rounds: path.join(stateDir, site, 'rounds'), candidates: path.join(stateDir, site, 'candidates') };
}

export interface PullResult {
  released: number[];
  belowCohort: number[];
  alreadyPulled: number[];
  /** Set when the privacy budget stopped the pull. */
  budgetExhausted: string | null;
}

/** What a pull would charge, read before it charges anything (reading a round or the ledger spends nothing). */
export interface PullPlan {
  /** Closed rounds of the site not yet counted or released: each is charged when pulled. */
  rounds: number[];
  /** At most what they cost together: each a full round at the site's noise (the ledger's pacing). */
  epsilon: number;
  budget: number;
  spent: number;
  /** More than a tenth of the period's budget: the command asks for --yes. */
  large: boolean;
}

/** The rounds `pullRounds(lookback)` would charge and at most what they would cost. */
export async function planPull(client: EdgeAdminClient, paths: TrainerPaths, lookback: number): Promise<PullPlan> {
  const current = (await client.round('current')).round;
  const rounds: number[] = [];
  for (let i = 1; i <= lookback; i++) {
    const round = current - i;
    if (existsSync(path.join(paths.rounds, `${round}.json`))) continue;
    let answer: RoundAnswer;
    try {
      answer = await client.round(round);
    } catch (e) {
      if (e instanceof EdgeError && e.code === 'unknown_round') break;
      throw e;
    }
    if (answer.status === 'closed' || answer.status === 'releasable') rounds.push(round);
  }
  const ledger = await client.privacy();
  const epsilon = rounds.length * ledger.pacing.epsilonPerRound;
  return { rounds, epsilon, budget: ledger.budget, spent: ledger.epsilon, large: epsilon > ledger.budget / 10 };
}

/** Reads the last `lookback` closed rounds; releases (and stores) those that reached K. */
export async function pullRounds(client: EdgeAdminClient, paths: TrainerPaths, lookback: number, quiet: boolean): Promise<PullResult> {
  mkdirSync(paths.rounds, { recursive: true });
  const current = (await client.round('current')).round;
  const result: PullResult = { released: [], belowCohort: [], alreadyPulled: [], budgetExhausted: null };
  const bar = quiet ? null : progress('pull', lookback);
  for (let i = 1; i <= lookback; i++) {
    const round = current - i;
    bar?.tick(i - 1, `round ${round}`);
    const file = path.join(paths.rounds, `${round}.json`);
    if (existsSync(file)) {
      result.alreadyPulled.push(round);
      continue;
    }
    let answer: RoundAnswer;
    try {
      answer = await client.releaseRound(round);
    } catch (e) {
      if (e instanceof EdgeError && e.code === 'privacy_budget_exhausted') {
        result.budgetExhausted = e.message;
        break;
      }
      // Before the site's first round: nobody could report in it, and counting it would spend budget on nothing.
      if (e instanceof EdgeError && e.code === 'unknown_round') break;
      throw e;
    }
    if (answer.status === 'released' && answer.release) {
      writeFileSync(file, JSON.stringify({ round, ...answer.release }));
      result.released.push(round);
    } else if (answer.status === 'below_cohort') {
      result.belowCohort.push(round);
    }
  }
  bar?.done();
  return result;
}

/** A released round as pull saved it (older saves lack the off-policy and tower parts). */
export interface SavedRound {
  round: number;
  head: Omit<ReleasedHead, 'round' | 'noiseStd'> | null;
  ope?: { modelVersion: string; reports: number; models: { modelVersion: string; sums: number[] }[] } | null;
  towers?: { modelVersion: string; reports: number; sums: number[] } | null;
  offsets?: { modelVersion: string; entries: { key: string; clicks: number; expected: number }[] } | null;
  noise: { headStd: number; opeStd?: number; towerStd?: number; offsetStd?: number };
}

export function pulledRounds(paths: TrainerPaths): SavedRound[] {
  if (!existsSync(paths.rounds)) return [];
  return readdirSync(paths.rounds)
    .filter((f) => /^\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(path.join(paths.rounds, f), 'utf8')) as SavedRound)
    .sort((a, b) => a.round - b.round);
}

export function pulledHeads(paths: TrainerPaths): ReleasedHead[] {
  return pulledRounds(paths)
    .filter((r) => r.head !== null)
    .map((r) => ({ ...r.head!, round: r.round, noiseStd: r.noise.headStd }));
}

/** The offsets of every pulled round that released them. */
export function pulledOffsets(paths: TrainerPaths): ReleasedOffsets[] {
  return pulledRounds(paths).flatMap((r) =>
    r.offsets && r.noise.offsetStd !== undefined
      ? [{ round: r.round, modelVersion: r.offsets.modelVersion, entries: r.offsets.entries, noiseStd: r.noise.offsetStd }]
      : [],
  );
}

/** The off-policy sums of every pulled round (what evaluate, the dashboard's lift and the simulator read). */
export function pulledOpe(paths: TrainerPaths): ReleasedOpe[] {
  return pulledRounds(paths).flatMap((r) =>
    r.ope && r.noise.opeStd !== undefined ? [{ round: r.round, loggingModel: r.ope.modelVersion, models: r.ope.models, noiseStd: r.noise.opeStd }] : [],
  );
}
