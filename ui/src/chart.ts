// Charts (uPlot): a line chart of one or more series over periods, and a fan chart.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { periodToTime } from './logic';

export interface Line {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
  fill?: string;
  width?: number;
  points?: boolean;
}

function css(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

// Canvas does not read CSS variables: "var(--c1)" becomes the theme's colour.
function color(c: string): string {
  const m = /^var\((--[a-z0-9-]+)\)$/.exec(c);
  return m ? css(m[1], '#888') : c;
}

// Draws into `into` (replacing its content); x: period labels. Returns the plot.
export function lineChart(
  into: HTMLElement,
  periods: string[],
  lines: Line[],
  bands: [number, number, string][] = [],
  title = '',
): uPlot {
  into.textContent = '';
  const xs = periods.map(periodToTime);
  const useIndex = xs.some((x) => Number.isNaN(x));
  const x = useIndex ? periods.map((_, i) => i) : xs;
  const axisColor = css('--fg', '#222');
  const gridColor = css('--grid', '#ddd');
  const opts: uPlot.Options = {
    title,
    width: Math.max(320, into.clientWidth || 800),
    height: 320,
    scales: { x: { time: !useIndex } },
    axes: [
      {
        stroke: axisColor,
        grid: { stroke: gridColor },
        values: useIndex ? (_u, splits) => splits.map((s) => periods[Math.round(s)] ?? '') : undefined,
      },
      { stroke: axisColor, grid: { stroke: gridColor }, size: 70 },
    ],
    series: [
      { label: 'period', value: (_u, v) => (v == null ? '' : useIndex ? periods[Math.round(v)] : periods[x.indexOf(v)] ?? '') },
      ...lines.map((l) => ({
        label: l.label,
        stroke: color(l.color),
        width: l.width ?? 2,
        dash: l.dash,
        fill: l.fill,
        points: { show: l.points ?? false },
        spanGaps: false,
      })),
    ],
    bands: bands.map(([a, b, fill]) => ({ series: [a, b] as [number, number], fill })),
  };
  const plot = new uPlot(opts, [x, ...lines.map((l) => l.values)] as uPlot.AlignedData, into);
  into.dataset.drawn = String(periods.length);
  return plot;
}
