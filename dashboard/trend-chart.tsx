/** A small line chart (uPlot) for one or more series over rounds. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface TrendChartProps {
  title: string;
  x: number[];
  series: { label: string; values: (number | null)[]; color: string; dash?: number[] }[];
  /** Formats the y axis. */
  format?: (v: number) => string;
  width?: number;
}

/** The x axis's span: the rounds shown, one round either side of a single one. */
function xSpan(x: number[]): [number, number] {
  const min = Math.min(...x);
  const max = Math.max(...x);
  return min === max ? [min - 1, max + 1] : [min, max];
}

export function TrendChart({ title, x, series, format = (v) => String(v), width = 640 }: TrendChartProps) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current || x.length === 0) return;
    const plot = new uPlot(
      {
        title,
        width,
        height: 220,
        // Rounds are ids in the tens of thousands: the axis spans the rounds shown (one round: a
        // round either side), not zero to twice the id (uPlot pads a single value by its
        // magnitude before any range function sees it, so the span comes from the rounds here).
        scales: { x: { time: false, range: () => xSpan(x) } },
        axes: [
          { label: 'round', values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
          { values: (_u, ticks) => ticks.map(format), size: 60 },
        ],
        series: [{ label: 'round' }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash, points: { show: true } }))],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      host.current,
    );
    return () => plot.destroy();
  }, [title, x, series, width, format]);
  return <div class="chart" ref={host} data-chart={title} />;
}
