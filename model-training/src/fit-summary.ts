/** A fit's result in words, for the CLI and the simulator's log. */
import type { FitResult } from './round-training.ts';

/** What a fit did, in words: the last layer, the towers, the offsets. */
export function fitSummary(r: FitResult): string {
  const head =
    r.headKept ??
    `last layer updated with rounds ${r.rounds.join(', ')} (~${Math.round(r.examples)} examples, noise sd ${Math.round(r.noiseStd)}; above the noise in ${r.evidence.directions} of ${r.evidence.dim} directions, the others keep their width)`;
  const towers = r.towers.skipped ? 'towers kept' : `towers stepped (norm ${r.towers.stepNorm.toPrecision(3)}) with ${r.towers.reports} device gradients`;
  const cells = r.offsets
    ? Object.entries(r.offsets.cells)
        .map(([cell, o]) => `${cell} ${Math.exp(o.mean).toFixed(2)}x`)
        .join(', ')
    : '';
  const offsets = r.offsets ? `offsets from rounds ${r.offsets.rounds.join(', ')}: ${cells}; ${r.offsets.creatives} creatives` : 'no offsets released';
  return `${head}; ${towers}; ${offsets}`;
}
