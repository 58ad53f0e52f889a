/** The simulator's chart: click rate by round for each policy, as a self-contained SVG (no library, no script). */
import type { RoundResult } from './simulation.ts';

const SERIES: { key: keyof RoundResult; label: string; color: string; dash?: string }[] = [
  { key: 'oracleCtr', label: 'oracle (knows the true click model)', color: '#1b7f3b', dash: '6 4' },
  { key: 'ctr', label: 'Vitrine (on-device, federated, DP)', color: '#0a5cff' },
  { key: 'frozenCtr', label: 'the first model, never retrained (same situations)', color: '#7a2bb8', dash: '5 3' },
  { key: 'popularityCtr', label: 'popularity (not personalized)', color: '#b35c00', dash: '2 3' },
  { key: 'randomCtr', label: 'uniform random', color: '#777', dash: '2 3' },
];

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

export function ctrChart(rounds: readonly RoundResult[], title: string): string {
  const width = 720;
  const height = 380;
  const pad = { left: 56, right: 20, top: 40, bottom: 110 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(0.01, ...rounds.flatMap((r) => SERIES.map((s) => r[s.key] as number))) * 1.1;
  const x = (i: number) => pad.left + (rounds.length === 1 ? plotW / 2 : (i / (rounds.length - 1)) * plotW);
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const ticks = Array.from({ length: 5 }, (_, i) => (max * i) / 4);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${pad.left}" y="22" font-size="14" font-weight="600">${escapeXml(title)}</text>`,
    ...ticks.map(
      (t) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${pad.left - 6}" y="${y(t) + 4}" text-anchor="end">${(100 * t).toFixed(1)}%</text>`,
    ),
    ...rounds.map((r, i) => `<text x="${x(i)}" y="${pad.top + plotH + 16}" text-anchor="middle">${r.round}</text>`),
    `<text x="${pad.left + plotW / 2}" y="${pad.top + plotH + 32}" text-anchor="middle">round</text>`,
  ];
  for (const s of SERIES) {
    const points = rounds.map((r, i) => `${x(i).toFixed(1)},${y(r[s.key] as number).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${points}"/>`);
    for (const [i, r] of rounds.entries()) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(r[s.key] as number).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  SERIES.forEach((s, i) => {
    const ly = pad.top + plotH + 52 + i * 14;
    parts.push(
      `<line x1="${pad.left}" x2="${pad.left + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${pad.left + 30}" y="${ly}">${escapeXml(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
