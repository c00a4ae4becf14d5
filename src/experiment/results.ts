/**
 * Writers for the comparison's outputs: results.json (the rows of types.ts plus `meta`), results.csv,
 * results.md (tables and a short per-normalizer summary) and chart.svg, plus the plain table the CLI prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart.js';
import type { CompareResult, CompareRow } from './types.js';

export const csvColumns = [
  'normalizer',
  'batchSize',
  'meanBatchSize',
  'seeds',
  'events',
  'loss',
  'lossStd',
  'error',
  'errorStd',
  'balancedError',
  'eventsPerSecond',
  'trainEvalGap',
  'trainEvalGapLate',
  'singletonPolicy',
  'singletonBatches',
  'singletonTriggered',
  'singletonAction',
  'rejectedUpdates',
  'failed',
] as const;

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(result: CompareResult): string {
  const lines = [csvColumns.join(',')];
  for (const r of result.rows) {
    const flat: Record<(typeof csvColumns)[number], unknown> = {
      normalizer: r.normalizer,
      batchSize: r.batchSize,
      meanBatchSize: r.meanBatchSize,
      seeds: r.seeds,
      events: r.events,
      loss: r.loss,
      lossStd: r.lossStd,
      error: r.error,
      errorStd: r.errorStd,
      balancedError: r.balancedError,
      eventsPerSecond: r.eventsPerSecond,
      trainEvalGap: r.trainEvalGap,
      trainEvalGapLate: r.trainEvalGapLate,
      singletonPolicy: r.singleton.policy,
      singletonBatches: r.singleton.singletonBatches,
      singletonTriggered: r.singleton.triggered,
      singletonAction: r.singleton.action,
      rejectedUpdates: r.rejectedUpdates,
      failed: r.failed,
    };
    lines.push(csvColumns.map((c) => csvCell(flat[c])).join(','));
  }
  return lines.join('\n') + '\n';
}

export function toJson(result: CompareResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const num = (v: number, d = 4): string => v.toFixed(d);
const rate = (v: number): string =>
  v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0);

function tableCells(r: CompareRow): string[] {
  if (r.failed !== undefined)
    return [r.normalizer, String(r.batchSize), `failed: ${r.failed}`, '', '', '', '', ''];
  return [
    r.normalizer,
    String(r.batchSize),
    `${pct(r.error)} ± ${pct(r.errorStd)}`,
    pct(r.balancedError),
    `${num(r.loss)} ± ${num(r.lossStd)}`,
    rate(r.eventsPerSecond),
    num(r.trainEvalGap),
    r.singleton.triggered > 0 ? `${r.singleton.policy}: ${r.singleton.triggered}` : '-',
  ];
}

const tableHeader = [
  'normalizer',
  'batch',
  'error ± sd',
  'bal. error',
  'log loss ± sd',
  'events/s',
  'train-eval gap',
  'singleton',
];

/** An aligned plain-text table of all rows (what `streamnorm compare` prints). */
export function formatTable(result: CompareResult): string {
  const rows = [tableHeader, ...result.rows.map(tableCells)];
  const widths = tableHeader.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]): string =>
    r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return (
    [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n') + '\n'
  );
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** Per-normalizer summary: mean events/s over batch sizes, the BN-style train-eval gap, and the singleton policy at batch size 1. */
export function summarize(result: CompareResult): {
  normalizer: string;
  eventsPerSecond: number;
  gap: string;
  singleton: string;
  bestError: string;
  worstError: string;
}[] {
  const byNorm = new Map<string, CompareRow[]>();
  for (const r of result.rows) {
    if (!byNorm.has(r.normalizer)) byNorm.set(r.normalizer, []);
    (byNorm.get(r.normalizer) as CompareRow[]).push(r);
  }
  const out = [];
  for (const [normalizer, rows] of byNorm) {
    const ok = rows.filter((r) => r.failed === undefined);
    const eps = ok.length === 0 ? 0 : ok.reduce((s, r) => s + r.eventsPerSecond, 0) / ok.length;
    const gaps = ok.filter((r) => r.trainEvalGap > 0).map((r) => `${r.batchSize}: ${num(r.trainEvalGap)}`);
    const one = rows.find((r) => r.batchSize === 1);
    const sorted = [...ok].sort((a, b) => a.error - b.error);
    out.push({
      normalizer,
      eventsPerSecond: eps,
      gap: gaps.length === 0 ? '0 (same computation in training and inference)' : gaps.join(', '),
      singleton:
        one === undefined
          ? 'batch size 1 not run'
          : one.failed !== undefined
            ? `failed: ${one.failed}`
            : one.singleton.action,
      bestError: sorted.length === 0 ? '-' : `${pct(sorted[0].error)} at ${sorted[0].batchSize}`,
      worstError:
        sorted.length === 0
          ? '-'
          : `${pct(sorted[sorted.length - 1].error)} at ${sorted[sorted.length - 1].batchSize}`,
    });
  }
  return out;
}

export function toMarkdown(result: CompareResult, chartFile = 'chart.svg'): string {
  const m = result.meta;
  const parts: string[] = [];
  parts.push(`# Normalization comparison: ${m.source}`);
  parts.push('');
  parts.push(
    `${m.events} events of shape [${m.shape.join(', ')}], ${m.classes} classes; majority-class error ${pct(m.baselineError)}. ` +
      `Prequential (predict, then learn, per arrival batch); ${m.seeds} seed(s) per cell; ${m.jobs} job(s); ${m.wallSeconds.toFixed(1)} s wall clock on Node ${m.node}, ${m.date}.`,
  );
  parts.push('');
  parts.push(`Model: \`${JSON.stringify(m.model)}\``);
  parts.push('');
  parts.push(`![prequential error against arrival batch size](${chartFile})`);
  parts.push('');
  parts.push('## All cells');
  parts.push('');
  parts.push(mdTable(tableHeader, result.rows.map(tableCells)));
  parts.push('');
  parts.push('## Per normalizer');
  parts.push('');
  parts.push(
    mdTable(
      [
        'normalizer',
        'best error',
        'worst error',
        'events/s (mean)',
        'train-eval gap by batch size',
        'singleton policy at batch size 1',
      ],
      summarize(result).map((s) => [
        s.normalizer,
        s.bestError,
        s.worstError,
        rate(s.eventsPerSecond),
        s.gap,
        s.singleton,
      ]),
    ),
  );
  parts.push('');
  parts.push(
    '`error` = 1 − prequential accuracy; `bal. error` = 1 − mean per-class recall; `train-eval gap` = mean total-variation distance between class ' +
      'probabilities predicted with the normalizer in training mode (batch statistics) and in inference mode (running statistics), dropout off in both.',
  );
  return parts.join('\n') + '\n';
}

/** Writes results.json, results.csv, results.md and chart.svg into `dir` (created if missing); returns the paths. */
export function writeResults(
  dir: string,
  result: CompareResult,
): { json: string; csv: string; md: string; svg: string } {
  mkdirSync(dir, { recursive: true });
  const paths = {
    json: join(dir, 'results.json'),
    csv: join(dir, 'results.csv'),
    md: join(dir, 'results.md'),
    svg: join(dir, 'chart.svg'),
  };
  writeFileSync(paths.json, toJson(result));
  writeFileSync(paths.csv, toCsv(result));
  writeFileSync(paths.md, toMarkdown(result));
  writeFileSync(paths.svg, renderChart(result));
  return paths;
}
