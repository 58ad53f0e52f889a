/**
 * The last layer's sufficient statistics as a device packs them and the edge and the trainer read
 * them: [n, the upper triangle of sum phi phi^T row by row, sum reward x phi]. One layout, here,
 * for the device (report-outbox.ts), the edge's shape check and the trainer's unpacking.
 */
/** Packed [n, upper triangle of sum phi phi^T row by row, sum reward x phi] over shown decisions. */
export function headStatistics(examples: readonly { phi: readonly number[]; reward: number }[], d: number): Float64Array {
  const stats = new Float64Array(headStatsLength(d));
  for (const { phi, reward } of examples) {
    stats[0]! += 1;
    let at = 1;
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) stats[at++]! += phi[i]! * phi[j]!;
    for (let i = 0; i < d; i++) stats[at + i]! += reward * phi[i]!;
  }
  return stats;
}

/** Length of the packed head statistics for head dimension d: count, upper triangle, reward sums. */
export function headStatsLength(d: number): number {
  return 1 + (d * (d + 1)) / 2 + d;
}

/** The dimension d whose packed head statistics have `length` entries, or null. */
export function headDimOfStats(length: number): number | null {
  for (let d = 1; d <= 64; d++) if (headStatsLength(d) === length) return d;
  return null;
}
