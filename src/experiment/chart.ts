/**
 * chart.svg: prequential error against arrival batch size on a log₂ x axis, one line per normalizer with a
 * band of ± one standard deviation over seeds, random (Poisson) batch sizes as hollow markers with error bars
 * at their mean, and the majority-class error as a dashed reference. Written by hand: a few dozen elements
 * do not justify a plotting dependency, and the output is stable text that diffs well.
 */
import type { CompareResult, CompareRow } from './types.js';

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
}

const palette = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f = (v: number): string => (Math.round(v * 100) / 100).toString();

/** "Nice" linear ticks covering [0, max]. */
function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

/** Renders the comparison chart as a standalone SVG document. */
export function renderChart(result: CompareResult, opts: ChartOptions = {}): string {
  const width = opts.width ?? 820;
  const height = opts.height ?? 460;
  const m = { left: 72, right: 205, top: 44, bottom: 64 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const rows = result.rows.filter((r) => r.failed === undefined);
  const xs = rows.map((r) => r.meanBatchSize).filter((v) => v > 0);
  const fixedSizes = [
    ...new Set(rows.filter((r) => typeof r.batchSize === 'number').map((r) => r.batchSize as number)),
  ].sort((a, b) => a - b);
  let lx0 = Math.log2(Math.min(...xs, ...fixedSizes, 1));
  let lx1 = Math.log2(Math.max(...xs, ...fixedSizes, 2));
  if (!(lx1 > lx0)) lx1 = lx0 + 1;
  const padX = 0.04 * (lx1 - lx0);
  lx0 -= padX;
  lx1 += padX;
  const baseline = result.meta.baselineError;
  const yMaxData = Math.max(
    ...rows.map((r) => r.error + r.errorStd),
    Number.isFinite(baseline) ? baseline : 0,
    1e-6,
  );
  const yTicks = niceTicks(yMaxData * 1.05);
  const yMax = yTicks[yTicks.length - 1];
  const X = (v: number): number => m.left + ((Math.log2(v) - lx0) / (lx1 - lx0)) * pw;
  const Y = (v: number): number => m.top + ph - (Math.max(0, v) / yMax) * ph;

  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" data-x-scale="log2">`,
  );
  const title = opts.title ?? `Prequential error vs arrival batch size: ${result.meta.source}`;
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`);
  // grid and axes
  out.push(`<g class="axis y-axis" stroke="#dddddd">`);
  for (const t of yTicks) {
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${f(Y(t))}" y2="${f(Y(t))}"/>`);
  }
  out.push(`</g>`);
  out.push(`<g class="tick-labels y-ticks" text-anchor="end" fill="#333333">`);
  for (const t of yTicks)
    out.push(
      `<text x="${m.left - 6}" y="${f(Y(t) + 4)}">${esc(`${(100 * t).toFixed(yMax < 0.05 ? 2 : 1)}%`)}</text>`,
    );
  out.push(`</g>`);
  out.push(`<g class="axis x-axis" stroke="#dddddd">`);
  for (const s of fixedSizes)
    out.push(
      `<line class="x-tick" data-value="${s}" x1="${f(X(s))}" x2="${f(X(s))}" y1="${m.top}" y2="${m.top + ph}"/>`,
    );
  out.push(`</g>`);
  out.push(`<g class="tick-labels x-ticks" text-anchor="middle" fill="#333333">`);
  for (const s of fixedSizes) out.push(`<text x="${f(X(s))}" y="${m.top + ph + 18}">${s}</text>`);
  out.push(`</g>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
  out.push(
    `<text x="${m.left + pw / 2}" y="${height - 22}" text-anchor="middle">arrival batch size (log scale)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">prequential error (1 − accuracy)</text>`,
  );
  if (Number.isFinite(baseline) && baseline <= yMax) {
    out.push(
      `<line class="baseline" x1="${m.left}" x2="${m.left + pw}" y1="${f(Y(baseline))}" y2="${f(Y(baseline))}" stroke="#000000" stroke-dasharray="6 4" stroke-width="1"/>`,
    );
  }
  // series
  const names = [...new Set(rows.map((r) => r.normalizer))];
  names.forEach((name, i) => {
    const color = palette[i % palette.length];
    const mine = rows.filter((r) => r.normalizer === name);
    const fixed = mine
      .filter((r) => typeof r.batchSize === 'number')
      .sort((a, b) => a.meanBatchSize - b.meanBatchSize);
    const random = mine.filter((r) => typeof r.batchSize !== 'number');
    out.push(`<g class="series" data-normalizer="${esc(name)}">`);
    if (fixed.length > 0) {
      const upper = fixed.map((r) => `${f(X(r.meanBatchSize))},${f(Y(r.error + r.errorStd))}`);
      const lower = fixed.map((r) => `${f(X(r.meanBatchSize))},${f(Y(r.error - r.errorStd))}`).reverse();
      out.push(
        `<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
      );
      const d = fixed
        .map((r, j) => `${j === 0 ? 'M' : 'L'}${f(X(r.meanBatchSize))},${f(Y(r.error))}`)
        .join(' ');
      out.push(`<path class="line" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
      for (const r of fixed) out.push(point(r, X, Y, color, false));
    }
    for (const r of random) out.push(point(r, X, Y, color, true));
    out.push(`</g>`);
  });
  // legend
  const lx = m.left + pw + 16;
  out.push(`<g class="legend">`);
  names.forEach((name, i) => {
    const y = m.top + 10 + i * 20;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${y}" y2="${y}" stroke="${palette[i % palette.length]}" stroke-width="3"/>`,
    );
    out.push(`<text x="${lx + 28}" y="${y + 4}">${esc(name)}</text>`);
  });
  let y = m.top + 10 + names.length * 20 + 8;
  if (rows.some((r) => typeof r.batchSize !== 'number')) {
    out.push(`<circle cx="${lx + 11}" cy="${y}" r="4" fill="#ffffff" stroke="#333333" stroke-width="1.5"/>`);
    out.push(`<text x="${lx + 28}" y="${y + 4}">random sizes (at mean)</text>`);
    y += 20;
  }
  if (Number.isFinite(baseline) && baseline <= yMax) {
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${y}" y2="${y}" stroke="#000000" stroke-dasharray="6 4"/>`,
    );
    out.push(`<text x="${lx + 28}" y="${y + 4}">majority class</text>`);
    y += 20;
  }
  out.push(`<text x="${lx}" y="${y + 4}" fill="#555555">band: ± 1 sd over seeds</text>`);
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

function point(
  r: CompareRow,
  X: (v: number) => number,
  Y: (v: number) => number,
  color: string,
  hollow: boolean,
): string {
  const cx = f(X(r.meanBatchSize));
  const label = esc(
    `${r.normalizer} @ ${r.batchSize}: error ${(100 * r.error).toFixed(2)}% ± ${(100 * r.errorStd).toFixed(2)}%`,
  );
  const bar =
    r.errorStd > 0
      ? `<line class="error-bar" x1="${cx}" x2="${cx}" y1="${f(Y(r.error - r.errorStd))}" y2="${f(Y(r.error + r.errorStd))}" stroke="${color}" stroke-width="1"/>`
      : '';
  return (
    bar +
    `<circle class="point${hollow ? ' random' : ''}" data-batch-size="${esc(String(r.batchSize))}" cx="${cx}" cy="${f(Y(r.error))}" r="${hollow ? 4.5 : 3}" ` +
    `fill="${hollow ? '#ffffff' : color}" stroke="${color}" stroke-width="1.5"><title>${label}</title></circle>`
  );
}
