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
   * A draw of this shopper's own multiplier for each cell, beyond the population's (whose
   * multiplier `population(cell)` is): Gamma(k + clicks, k + expected x population), mean 1 with
   * no data of its own. `drawer` makes the draws for a list of cells, one cell at most once.
   */
  drawer(cells: readonly string[], population: (cell: string) => number): (random: Uniform) => Float64Array {
    const distinct = [...new Set(cells)];
    const index = cells.map((c) => distinct.indexOf(c));
    const shapes = distinct.map((c) => DEVICE_PRIOR_CLICKS + (this.cells.get(c)?.clicks ?? 0));
    const rates = distinct.map((c) => DEVICE_PRIOR_CLICKS + (this.cells.get(c)?.expected ?? 0) * population(c));
    const known = distinct.map((c) => this.cells.has(c));
    const perCell = new Float64Array(distinct.length);
    const out = new Float64Array(cells.length);
    return (random) => {
      for (let g = 0; g < distinct.length; g++) perCell[g] = known[g] ? gammaDraw(shapes[g]!, random) / rates[g]! : 1;
      for (let k = 0; k < cells.length; k++) out[k] = perCell[index[k]!]!;
      return out;
    };
  }
}
