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
   * One draw of this shopper's own multiplier for each cell, beyond the population's (whose
   * multiplier `population(cell)` is): Gamma(k + clicks, k + expected x population), mean 1 with
   * no data of its own.
   */
  draw(cells: readonly string[], population: (cell: string) => number, random: Uniform): Float64Array {
    const drawn = new Map<string, number>();
    return Float64Array.from(cells, (cell) => {
      let m = drawn.get(cell);
      if (m === undefined) {
        const own = this.cells.get(cell);
        m = own ? gammaDraw(DEVICE_PRIOR_CLICKS + own.clicks, random) / (DEVICE_PRIOR_CLICKS + own.expected * population(cell)) : 1;
        drawn.set(cell, m);
      }
      return m;
    });
  }
}
