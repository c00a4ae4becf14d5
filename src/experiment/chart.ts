/**
 * The comparison's charts: a metric (prequential error or log loss) against arrival batch size, one panel per
 * arrival order, on a log₂ x axis; one line per normalizer with its 95 % t-interval band over seeds, random
 * (Poisson) batch sizes as hollow markers at their mean, and the majority-class baseline as a dashed line.
 * Colours are the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies) and each
 * normalizer also has its own dash pattern. The y range is robust: a point far above the others (by the
 * quartiles' rule) is drawn as a clipped arrow at the top edge with its value, so it cannot flatten the rest.
 * Written by hand: a few dozen elements do not justify a plotting dependency, and the text diffs well.
 */
import { isOkRow, type CompareResult, type CompareRowOk } from './types.js';

export interface ChartOptions {
  /** 'error' (default) or 'loss'. */
  metric?: 'error' | 'loss';
  panelWidth?: number;
  height?: number;
  title?: string;
}

/** Okabe & Ito (2008), without black (the baseline's colour). */
export const palette = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#999999',
  '#F0E442',
];
const dashes = ['', '6 3', '2 3', '8 3 2 3', '12 4', '4 2 4 6', '1 2', '10 2 2 2'];

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

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The top of the y axis: the highest value + half-width among the points that are not outliers (above
 * Q3 + 3·IQR of all values), and never below the baseline. Returns the cut too.
 */
export function robustTop(
  values: number[],
  halfWidths: number[],
  baseline: number,
): { top: number; cut: number } {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const cut = Math.max(
    q3 + 3 * Math.max(q3 - q1, 0.02 * Math.abs(q3)),
    Number.isFinite(baseline) ? baseline : -Infinity,
  );
  let top = Number.isFinite(baseline) ? baseline : 0;
  values.forEach((v, i) => {
    if (Number.isFinite(v) && v <= cut)
      top = Math.max(top, v + (Number.isFinite(halfWidths[i]) ? halfWidths[i] : 0));
  });
  return { top: Math.max(top, 1e-6), cut };
}

interface Acc {
  value(r: CompareRowOk): number;
  half(r: CompareRowOk): number;
  baseline(r: CompareRowOk): number;
  label: string;
  fmt(v: number): string;
}

const accessors: Record<'error' | 'loss', Acc> = {
  error: {
    value: (r) => r.error,
    half: (r) => r.errorCi95 ?? 0,
    baseline: (r) => r.baselineError,
    label: 'prequential error (1 − accuracy)',
    fmt: (v) => `${(100 * v).toFixed(2)}%`,
  },
  loss: {
    value: (r) => r.loss,
    half: (r) => r.lossCi95 ?? 0,
    baseline: (r) => r.baselineLoss,
    label: 'prequential log loss (nats)',
    fmt: (v) => v.toFixed(3),
  },
};

/** Renders the chart as a standalone SVG document. */
export function renderChart(result: CompareResult, opts: ChartOptions = {}): string {
  const metric = opts.metric ?? 'error';
  const acc = accessors[metric];
  const panelW = opts.panelWidth ?? 340;
  const height = opts.height ?? 420;
  const rows = result.rows.filter(isOkRow);
  const arrivals =
    result.meta.arrivals.length > 0 ? result.meta.arrivals : [...new Set(rows.map((r) => r.arrival))];
  const names = result.meta.normalizers.filter((n) => rows.some((r) => r.normalizer === n));
  // right: the gap after a panel, room for the next panel's y tick labels; legend: the swatch, then its longest
  // line at about 7 px a character (12 px sans-serif)
  const longest = Math.max('off the scale (value shown)'.length, ...names.map((n) => n.length));
  const m = { left: 64, right: 40, top: 72, bottom: 58, legend: 48 + 7 * longest };
  const width = m.left + arrivals.length * (panelW + m.right) + m.legend;
  const ph = height - m.top - m.bottom;
  const pw = panelW - 20;
  const fixedSizes = [
    ...new Set(rows.filter((r) => typeof r.batchSize === 'number').map((r) => r.batchSize as number)),
  ].sort((a, b) => a - b);
  const xs = [...rows.map((r) => r.meanBatchSize).filter((v) => v > 0), ...fixedSizes];
  let lx0 = Math.log2(Math.min(...xs, 1));
  let lx1 = Math.log2(Math.max(...xs, 2));
  if (!(lx1 > lx0)) lx1 = lx0 + 1;
  const padX = 0.05 * (lx1 - lx0);
  lx0 -= padX;
  lx1 += padX;
  const baseline = rows.length === 0 ? NaN : Math.max(...rows.map(acc.baseline));
  const { top, cut } = robustTop(rows.map(acc.value), rows.map(acc.half), baseline);
  const yTicks = niceTicks(top * 1.05);
  const yMax = yTicks[yTicks.length - 1];
  const Y = (v: number): number => m.top + ph - (Math.min(Math.max(0, v), yMax) / yMax) * ph;

  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" data-x-scale="log2" data-metric="${metric}">`,
  );
  const title =
    opts.title ??
    `${metric === 'error' ? 'Prequential error' : 'Prequential log loss'} vs arrival batch size: ${result.meta.source}`;
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  const steps =
    result.meta.stepEvents === 'arrival'
      ? 'one optimizer step per arrival batch'
      : `one optimizer step per ${result.meta.stepEvents} events`;
  out.push(
    `<text x="${m.left}" y="40" fill="#555555">${esc(`${result.meta.seeds} seed(s); ${steps}; bands: 95 % t-interval of the mean over seeds`)}</text>`,
  );
  out.push(
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(acc.label)}</text>`,
  );
  arrivals.forEach((arrival, p) => {
    const x0 = m.left + p * (panelW + m.right);
    const X = (v: number): number => x0 + ((Math.log2(v) - lx0) / (lx1 - lx0)) * pw;
    out.push(`<g class="panel" data-arrival="${esc(arrival)}">`);
    out.push(
      `<text x="${x0 + pw / 2}" y="${m.top - 6}" text-anchor="middle" font-weight="bold">${esc(`arrival: ${arrival}`)}</text>`,
    );
    out.push(`<g class="axis y-axis" stroke="#e0e0e0">`);
    for (const t of yTicks) out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${f(Y(t))}" y2="${f(Y(t))}"/>`);
    out.push(`</g>`);
    out.push(`<g class="tick-labels y-ticks" text-anchor="end" fill="#333333">`);
    for (const t of yTicks)
      out.push(
        `<text x="${x0 - 5}" y="${f(Y(t) + 4)}">${esc(metric === 'error' ? `${(100 * t).toFixed(yMax < 0.05 ? 2 : 0)}%` : t.toFixed(2))}</text>`,
      );
    out.push(`</g>`);
    out.push(`<g class="axis x-axis" stroke="#e0e0e0">`);
    for (const s of fixedSizes)
      out.push(
        `<line class="x-tick" data-value="${s}" x1="${f(X(s))}" x2="${f(X(s))}" y1="${m.top}" y2="${m.top + ph}"/>`,
      );
    out.push(`</g>`);
    out.push(`<g class="tick-labels x-ticks" text-anchor="middle" fill="#333333">`);
    for (const s of fixedSizes) out.push(`<text x="${f(X(s))}" y="${m.top + ph + 16}">${s}</text>`);
    out.push(`</g>`);
    out.push(`<rect x="${x0}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
    out.push(
      `<text x="${x0 + pw / 2}" y="${height - 20}" text-anchor="middle">arrival batch size (log scale)</text>`,
    );
    const mineAll = rows.filter((r) => r.arrival === arrival);
    const base = mineAll.length === 0 ? NaN : mean(mineAll.map(acc.baseline));
    if (Number.isFinite(base) && base <= yMax) {
      out.push(
        `<line class="baseline" x1="${x0}" x2="${x0 + pw}" y1="${f(Y(base))}" y2="${f(Y(base))}" stroke="#000000" stroke-dasharray="6 4" stroke-width="1.2"><title>${esc(`majority-class baseline ${acc.fmt(base)}`)}</title></line>`,
      );
    }
    names.forEach((name, i) => {
      const color = palette[i % palette.length];
      const dash = dashes[i % dashes.length];
      const mine = mineAll.filter((r) => r.normalizer === name);
      const fixed = mine
        .filter((r) => typeof r.batchSize === 'number')
        .sort((a, b) => a.meanBatchSize - b.meanBatchSize);
      const random = mine.filter((r) => typeof r.batchSize !== 'number');
      out.push(`<g class="series" data-normalizer="${esc(name)}" data-arrival="${esc(arrival)}">`);
      if (fixed.length > 0) {
        const upper = fixed.map((r) => `${f(X(r.meanBatchSize))},${f(Y(acc.value(r) + acc.half(r)))}`);
        const lower = fixed
          .map((r) => `${f(X(r.meanBatchSize))},${f(Y(acc.value(r) - acc.half(r)))}`)
          .reverse();
        if (fixed.some((r) => acc.half(r) > 0))
          out.push(
            `<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.14" stroke="none"/>`,
          );
        const d = fixed
          .map((r, j) => `${j === 0 ? 'M' : 'L'}${f(X(r.meanBatchSize))},${f(Y(acc.value(r)))}`)
          .join(' ');
        out.push(
          `<path class="line" d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash === '' ? '' : ` stroke-dasharray="${dash}"`}/>`,
        );
        for (const r of fixed) out.push(point(r, acc, X, Y, color, false, cut));
      }
      for (const r of random) out.push(point(r, acc, X, Y, color, true, cut));
      out.push(`</g>`);
    });
    out.push(`</g>`);
  });
  // legend
  const lx = m.left + arrivals.length * (panelW + m.right) + 8;
  out.push(`<g class="legend">`);
  names.forEach((name, i) => {
    const y = m.top + 10 + i * 20;
    const dash = dashes[i % dashes.length];
    out.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${y}" y2="${y}" stroke="${palette[i % palette.length]}" stroke-width="3"${dash === '' ? '' : ` stroke-dasharray="${dash}"`}/>`,
    );
    out.push(`<text x="${lx + 32}" y="${y + 4}">${esc(name)}</text>`);
  });
  let y = m.top + 10 + names.length * 20 + 8;
  if (rows.some((r) => typeof r.batchSize !== 'number')) {
    out.push(`<circle cx="${lx + 13}" cy="${y}" r="4" fill="#ffffff" stroke="#333333" stroke-width="1.5"/>`);
    out.push(`<text x="${lx + 32}" y="${y + 4}">random sizes (at mean)</text>`);
    y += 20;
  }
  out.push(`<line x1="${lx}" x2="${lx + 26}" y1="${y}" y2="${y}" stroke="#000000" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${lx + 32}" y="${y + 4}">majority class</text>`);
  y += 20;
  out.push(`<path d="M${lx + 9},${y + 3} L${lx + 13},${y - 5} L${lx + 17},${y + 3} Z" fill="#333333"/>`);
  out.push(`<text x="${lx + 32}" y="${y + 4}">off the scale (value shown)</text>`);
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function point(
  r: CompareRowOk,
  acc: Acc,
  X: (v: number) => number,
  Y: (v: number) => number,
  color: string,
  hollow: boolean,
  cut: number,
): string {
  const v = acc.value(r);
  const h = acc.half(r);
  const cx = f(X(r.meanBatchSize));
  const label = esc(
    `${r.normalizer} @ ${r.batchSize}, ${r.arrival}: ${acc.fmt(v)}${h > 0 ? ` ± ${acc.fmt(h)} (95 %)` : ''}`,
  );
  if (v > cut) {
    const cy = Y(Infinity);
    return (
      `<path class="point clipped" data-batch-size="${esc(String(r.batchSize))}" d="M${f(Number(cx) - 5)},${f(cy + 9)} L${cx},${f(cy + 1)} L${f(Number(cx) + 5)},${f(cy + 9)} Z" fill="${color}"><title>${label}</title></path>` +
      `<text class="clipped-value" x="${cx}" y="${f(cy + 20)}" text-anchor="middle" font-size="10" fill="${color}">${esc(acc.fmt(v))}</text>`
    );
  }
  const bar =
    h > 0
      ? `<line class="error-bar" x1="${cx}" x2="${cx}" y1="${f(Y(v - h))}" y2="${f(Y(v + h))}" stroke="${color}" stroke-width="1"/>`
      : '';
  return (
    bar +
    `<circle class="point${hollow ? ' random' : ''}" data-batch-size="${esc(String(r.batchSize))}" cx="${cx}" cy="${f(Y(v))}" r="${hollow ? 4.5 : 3}" ` +
    `fill="${hollow ? '#ffffff' : color}" stroke="${color}" stroke-width="1.5"><title>${label}</title></circle>`
  );
}
