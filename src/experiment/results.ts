/**
 * Writers for the comparison's outputs: results.json (the rows of types.ts plus `meta`), results.csv,
 * results.md (tables per arrival order, the columns explained, a reading generated from the intervals),
 * chart.svg (error) and chart-loss.svg (log loss), plus the plain table the CLI prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { renderChart } from './chart.js';
import { isOkRow, type CompareResult, type CompareRow, type CompareRowOk } from './types.js';

export const csvColumns = [
  'arrival',
  'normalizer',
  'batchSize',
  'stepEvents',
  'steps',
  'lr',
  'status',
  'reason',
  'meanBatchSize',
  'seeds',
  'events',
  'error',
  'errorStd',
  'errorCi95',
  'loss',
  'lossStd',
  'lossCi95',
  'errorAfterWarmup',
  'lossAfterWarmup',
  'balancedError',
  'baselineError',
  'baselineLoss',
  'auprc',
  'episodes',
  'episodeRecall',
  'episodeRecallCi95',
  'falseAlarmsPer1000',
  'falseAlarmsPer1000Ci95',
  'errorDiffVsBatch',
  'errorDiffVsBatchCi95',
  'lossDiffVsBatch',
  'lossDiffVsBatchCi95',
  'eventsPerSecond',
  'trainEvalGap',
  'trainEvalKl',
  'trainEvalGapLate',
  'singletonPolicy',
  'singletonBatches',
  'singletonTriggered',
  'singletonAction',
  'rejectedUpdates',
] as const;

/** results.csv: RFC 4180 (csv-stringify quotes what needs it), one row per result row in {@link csvColumns} order. */
export function toCsv(result: CompareResult): string {
  const records = result.rows.map((r) => {
    const flat: Record<string, unknown> = { ...r };
    if (isOkRow(r)) {
      flat.singletonPolicy = r.singleton.policy;
      flat.singletonBatches = r.singleton.singletonBatches;
      flat.singletonTriggered = r.singleton.triggered;
      flat.singletonAction = r.singleton.action;
    }
    return flat;
  });
  return stringify(records, {
    header: true,
    columns: [...csvColumns],
    // booleans as true/false (csv-stringify's default writes 1 and an empty cell)
    cast: { boolean: (v) => String(v) },
  });
}

export function toJson(result: CompareResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const signedPct = (v: number): string =>
  `${v > 0 ? '+' : v < 0 ? '−' : '±'}${(100 * Math.abs(v)).toFixed(2)}`;
const num = (v: number, d = 4): string => v.toFixed(d);
const rate = (v: number): string =>
  v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0);
/** `value ± half-width`, or the value alone when there is no interval (one seed). */
const withCi = (v: string, half: number | null | undefined, fmt: (h: number) => string): string =>
  half === null || half === undefined || !Number.isFinite(half) ? v : `${v} ± ${fmt(half)}`;

function hasAuprc(result: CompareResult): boolean {
  return result.rows.some((r) => isOkRow(r) && r.auprc !== undefined);
}

function hasEpisodes(result: CompareResult): boolean {
  return result.rows.some((r) => isOkRow(r) && r.episodeRecall !== undefined);
}

function header(result: CompareResult): string[] {
  const h = [
    'arrival',
    'normalizer',
    'batch',
    'steps',
    'lr',
    'error',
    'vs batch (pp)',
    'after warm-up',
    'bal. error',
  ];
  h.push('log loss');
  if (hasAuprc(result)) h.push('AUC-PR');
  if (hasEpisodes(result)) h.push('episode recall', 'false alarms /1k');
  h.push('gap TV / KL', 'events/s', 'singleton');
  return h;
}

function tableCells(r: CompareRow, result: CompareResult): string[] {
  const key = [r.arrival, r.normalizer, String(r.batchSize)];
  if (!isOkRow(r)) {
    const blanks = header(result).length - 4;
    return [...key, `failed: ${r.reason}`, ...new Array<string>(blanks).fill('')];
  }
  const cells = [
    ...key,
    String(Math.round(r.steps)),
    String(r.lr),
    withCi(pct(r.error), r.errorCi95, pct),
    r.errorDiffVsBatch === undefined
      ? '-'
      : withCi(signedPct(r.errorDiffVsBatch), r.errorDiffVsBatchCi95, (h) => (100 * h).toFixed(2)),
    pct(r.errorAfterWarmup),
    pct(r.balancedError),
    withCi(num(r.loss), r.lossCi95, (h) => num(h)),
  ];
  if (hasAuprc(result))
    cells.push(r.auprc === undefined || !Number.isFinite(r.auprc) ? '-' : num(r.auprc, 3));
  if (hasEpisodes(result)) {
    const recall = r.episodeRecall;
    cells.push(
      recall === undefined || !Number.isFinite(recall)
        ? '-'
        : withCi(num(recall, 2), r.episodeRecallCi95, (h) => num(h, 2)),
      r.falseAlarmsPer1000 === undefined
        ? '-'
        : withCi(num(r.falseAlarmsPer1000, 1), r.falseAlarmsPer1000Ci95, (h) => num(h, 1)),
    );
  }
  cells.push(
    r.trainEvalGap === 0 ? '0' : `${num(r.trainEvalGap)} / ${num(r.trainEvalKl)}`,
    rate(r.eventsPerSecond),
    r.singleton.triggered > 0 ? `${r.singleton.policy}: ${r.singleton.triggered}` : '-',
  );
  return cells;
}

/** An aligned plain-text table of all rows (what `streamnorm compare` prints), the baseline under it. */
export function formatTable(result: CompareResult): string {
  const h = header(result);
  const rows = [h, ...result.rows.map((r) => tableCells(r, result))];
  const widths = h.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  const base = baselineLine(result);
  return (
    [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '', base].join(
      '\n',
    ) + '\n'
  );
}

function baselineLine(result: CompareResult): string {
  const ok = result.rows.filter(isOkRow);
  const b =
    ok.length === 0 ? result.meta.baselineError : ok.reduce((a, r) => a + r.baselineError, 0) / ok.length;
  const spread = result.meta.seeds > 1 ? '± = 95 % t-interval over seeds; ' : 'one seed: no interval; ';
  return `majority-class baseline error ${pct(b)}; ${spread}warm-up = first ${result.meta.warmup} events`;
}

/** What each column means (printed by the CLI under `--explain` and written into results.md). */
export const columnNotes: [string, string][] = [
  [
    'arrival',
    'the order events arrive in: iid (shuffled), recorded (as stored), bursty:R (runs of R events of one class), keyed:R (runs of R events of one key)',
  ],
  [
    'batch',
    'arrival batch size: events the normalizer sees together in training mode (poisson:M = random sizes of mean M)',
  ],
  [
    'steps',
    'optimizer steps per run (counted); with --step-events N every batch size takes about the same number',
  ],
  ['lr', "Adam's learning rate (chosen per row on a separate tuning draw under --lr auto)"],
  [
    'error',
    '1 − accuracy of the prequential predictions (each batch predicted in inference mode before it is learned), mean over seeds ± 95 % t-interval',
  ],
  [
    'vs batch (pp)',
    "paired difference to BatchNorm's error on the same seeds, in percentage points (negative = better than BatchNorm) ± 95 % t-interval",
  ],
  ['after warm-up', 'error over the events after the warm-up'],
  ['bal. error', '1 − mean per-class recall (honest when one class is rare)'],
  ['log loss', 'mean prequential cross-entropy (nats) ± 95 % t-interval'],
  ['AUC-PR', 'average precision of class 1 (binary streams)'],
  [
    'episode recall',
    'anomaly streams: share of anomaly episodes (runs of anomalous events of one key in the recorded stream) with at least one event predicted anomalous, whatever the arrival order; mean ± 95 % t-interval',
  ],
  ['false alarms /1k', 'anomaly streams: normal events predicted anomalous, per 1,000 events'],
  [
    'gap TV / KL',
    'difference between predictions with batch statistics (training mode) and running statistics (inference mode): total variation / KL divergence; 0 for per-sample normalizers',
  ],
  ['singleton', 'what the singleton-batch policy did when BatchNorm got one value per channel'],
];

function mdTable(head: string[], rows: string[][], leftColumns = 3): string {
  const escCell = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${head.map(escCell).join(' | ')} |`,
    `|${head.map((_, i) => (i < leftColumns ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(escCell).join(' | ')} |`),
  ].join('\n');
}

/**
 * A short reading generated from the numbers: per arrival order, where a normalizer's paired difference to
 * BatchNorm has a 95 % interval that excludes 0 (better or worse), and where none does. Only intervals
 * decide; with one seed there are none and the reading says so.
 */
export function reading(result: CompareResult): string[] {
  const ok = result.rows.filter(isOkRow);
  const lines: string[] = [];
  if (result.meta.seeds < 2)
    return ['One seed: no intervals, so no difference below can be told apart from noise.'];
  if (!result.meta.normalizers.includes('batch')) return ['BatchNorm was not run: no paired differences.'];
  for (const arrival of result.meta.arrivals) {
    const mine = ok.filter((r) => r.arrival === arrival && r.errorDiffVsBatch !== undefined);
    const better: string[] = [];
    const worse: string[] = [];
    for (const r of mine) {
      const d = r.errorDiffVsBatch as number;
      const h = r.errorDiffVsBatchCi95;
      if (h === null || h === undefined || !Number.isFinite(h)) continue;
      const text = `${r.normalizer} at ${r.batchSize} (${signedPct(d)} ± ${(100 * h).toFixed(2)} pp)`;
      if (d + h < 0) better.push(text);
      else if (d - h > 0) worse.push(text);
    }
    const bn = ok.filter((r) => r.arrival === arrival && r.normalizer === 'batch');
    const bnText = bn.map((r) => `${pctCi(r)} at ${r.batchSize}`).join(', ');
    lines.push(
      `**${arrival}**: BatchNorm's error ${bnText === '' ? 'not measured' : bnText}. ` +
        (better.length === 0
          ? 'No normalizer beats BatchNorm with a 95 % interval that excludes 0. '
          : `Better than BatchNorm (paired, 95 % interval below 0): ${better.join('; ')}. `) +
        (worse.length === 0
          ? 'None is worse with such an interval.'
          : `Worse than BatchNorm (interval above 0): ${worse.join('; ')}.`),
    );
  }
  return lines;
}

function pctCi(r: CompareRowOk): string {
  return withCi(pct(r.error), r.errorCi95, pct);
}

export function toMarkdown(
  result: CompareResult,
  charts = { error: 'chart.svg', loss: 'chart-loss.svg' },
): string {
  const m = result.meta;
  const parts: string[] = [];
  parts.push(`# Normalization comparison: ${m.source}`);
  parts.push('');
  const steps =
    m.stepEvents === 'arrival'
      ? 'one optimizer step per arrival batch'
      : `gradients accumulated over arrival batches, one optimizer step per ${m.stepEvents} events`;
  parts.push(
    `${m.events} events of shape [${m.shape.join(', ')}], ${m.classes} classes; majority-class error ${pct(m.baselineError)}. ` +
      `Prequential (predict, then learn, per arrival batch); ${steps}; learning rate ${m.lr === 'auto' ? `tuned per row over ${JSON.stringify(m.lrGrid)} (${m.lrTuning ?? 'a tuning draw that is never scored'})` : m.lr}; ` +
      `${m.seeds} seed(s) per cell (${m.draws}); warm-up ${m.warmup} events; ${m.jobs} job(s); ${m.wallSeconds.toFixed(1)} s wall clock on Node ${m.node}, ${m.date}.`,
  );
  parts.push('');
  parts.push(`Model: \`${JSON.stringify(m.model)}\``);
  parts.push('');
  parts.push(`![prequential error against arrival batch size](${charts.error})`);
  parts.push('');
  parts.push(`![prequential log loss against arrival batch size](${charts.loss})`);
  parts.push('');
  parts.push('## Reading');
  parts.push('');
  for (const l of reading(result)) {
    parts.push(l);
    parts.push('');
  }
  for (const arrival of m.arrivals) {
    parts.push(`## Arrival: ${arrival}`);
    parts.push('');
    parts.push(
      mdTable(
        header(result),
        result.rows.filter((r) => r.arrival === arrival).map((r) => tableCells(r, result)),
      ),
    );
    parts.push('');
  }
  parts.push(baselineLine(result));
  parts.push('');
  parts.push('## Columns');
  parts.push('');
  for (const [k, v] of columnNotes) parts.push(`- \`${k}\`: ${v}`);
  return parts.join('\n') + '\n';
}

/** Where {@link writeResults} put each file. */
export interface ResultPaths {
  json: string;
  csv: string;
  md: string;
  svg: string;
  lossSvg: string;
}

/** Writes results.json, results.csv, results.md, chart.svg and chart-loss.svg into `dir` (created if missing). */
export function writeResults(dir: string, result: CompareResult): ResultPaths {
  mkdirSync(dir, { recursive: true });
  const paths = {
    json: join(dir, 'results.json'),
    csv: join(dir, 'results.csv'),
    md: join(dir, 'results.md'),
    svg: join(dir, 'chart.svg'),
    lossSvg: join(dir, 'chart-loss.svg'),
  };
  writeFileSync(paths.json, toJson(result));
  writeFileSync(paths.csv, toCsv(result));
  writeFileSync(paths.md, toMarkdown(result));
  writeFileSync(paths.svg, renderChart(result));
  writeFileSync(paths.lossSvg, renderChart(result, { metric: 'loss' }));
  return paths;
}
