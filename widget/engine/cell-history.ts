/**
 * What this device has learned of its own shopper's taste for creative formats: its clicks and
 * the clicks the model expected, per cell (protocol/offsets.ts), over the decisions its log keeps
 * (the attribution window and a day). It never leaves the device as such (the round's report
 * carries its own, clipped and noised, part), so learning from it costs no privacy.
 *
 * Why: a cell's released offset is the population's average, and shoppers differ (in the
 * simulator's creative-format world half triple their clicks on banners while the other half
 * halve theirs). A device's own few clicks, shrunk towards its cell's released offset, move
 * that shopper's multiplier where their clicks point, with Thompson sampling over what it knows.
 */
import { gammaDraw } from '../../protocol/policy.ts';
import type { Uniform } from '../../protocol/policy.ts';
import type { DeviceDB } from './device-store.ts';

/** Prior strength of a device's own multiplier, in expected clicks: its own data count as much after about one expected click. */
export const DEVICE_PRIOR_CLICKS = 1;

export class CellHistory {
  private cells = new Map<string, { clicks: number; expected: number }>();

  static async load(db: DeviceDB | null): Promise<CellHistory> {
    const history = new CellHistory();
    if (!db) return history;
    for (const d of await db.getAll('decisions')) {
      if (!d.cell || d.expected === undefined) continue;
      if (d.impression || d.click) history.shown(d.cell, d.expected);
      if (d.click) history.clicked(d.cell);
    }
    return history;
  }

  shown(cell: string, expected: number): void {
    const c = this.cells.get(cell) ?? { clicks: 0, expected: 0 };
    c.expected += expected;
    this.cells.set(cell, c);
  }

  clicked(cell: string): void {
    const c = this.cells.get(cell) ?? { clicks: 0, expected: 0 };
    c.clicks += 1;
    this.cells.set(cell, c);
  }

  /**
   * This shopper's own multiplier for each cell, beyond the population's (whose multiplier
   * `population(cell)` is): Gamma(k + clicks, k + expected x population), mean 1 with no data of
   * its own. `ownDraws` makes the Gamma(k + clicks, 1) draws of one situation, m of each cell at
   * most once, with what the device knew then; `multipliers` divides them by one model's rates.
   * The draws are shared by every model scored in the situation (policy.ts, offsetNormals).
   */
  ownDraws(cells: readonly string[], m: number, random: Uniform): OwnCellDraws {
    const distinct = [...new Set(cells)];
    const known = distinct.map((c) => this.cells.has(c));
    const shapes = distinct.map((c) => DEVICE_PRIOR_CLICKS + (this.cells.get(c)?.clicks ?? 0));
    const g = distinct.length;
    const gammas = new Float64Array(m * g);
    for (let s = 0; s < m; s++) for (let j = 0; j < g; j++) gammas[s * g + j] = known[j] ? gammaDraw(shapes[j]!, random) : 1;
    return {
      cells: distinct,
      index: cells.map((c) => distinct.indexOf(c)),
      known,
      expected: distinct.map((c) => this.cells.get(c)?.expected ?? 0),
      gammas,
    };
  }
}

/** A situation's own-multiplier draws (CellHistory.ownDraws): m rows of one Gamma draw per distinct cell. */
export interface OwnCellDraws {
  cells: string[];
  /** Each eligible candidate's cell, as an index into `cells`. */
  index: number[];
  known: boolean[];
  expected: number[];
  gammas: Float64Array;
}

/** Draw s's own multiplier of each eligible candidate under a model whose population multiplier of a cell is `population(cell)`. */
export function ownMultipliers(own: OwnCellDraws, population: (cell: string) => number): (s: number) => Float64Array {
  const g = own.cells.length;
  const rates = own.cells.map((c, j) => DEVICE_PRIOR_CLICKS + own.expected[j]! * population(c));
  const out = new Float64Array(own.index.length);
  return (s) => {
    for (let k = 0; k < out.length; k++) {
      const j = own.index[k]!;
      out[k] = own.known[j] ? own.gammas[s * g + j]! / rates[j]! : 1;
    }
    return out;
  };
}
