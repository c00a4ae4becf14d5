import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  csvColumns,
  formatTable,
  summarize,
  toCsv,
  toMarkdown,
  writeResults,
} from '../../../src/experiment/results.js';
import { sampleResult } from './fixture.js';

/** Minimal RFC 4180 parser (quotes, doubled quotes, commas inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  return rows;
}

describe('results writers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-results-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes all four files; results.json has the documented row fields', () => {
    const paths = writeResults(join(dir, 'out'), sampleResult());
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as {
      rows: Record<string, unknown>[];
      meta: unknown;
    };
    expect(json.rows.length).toBe(8);
    for (const r of json.rows) {
      for (const k of [
        'normalizer',
        'batchSize',
        'seeds',
        'events',
        'loss',
        'error',
        'lossStd',
        'errorStd',
        'eventsPerSecond',
        'trainEvalGap',
        'singleton',
      ]) {
        expect(r).toHaveProperty(k);
      }
    }
    expect(readFileSync(paths.svg, 'utf8')).toContain('<svg');
    expect(readFileSync(paths.md, 'utf8')).toContain(
      '![prequential error against arrival batch size](chart.svg)',
    );
    expect(readFileSync(paths.csv, 'utf8').split('\n')[0]).toBe(csvColumns.join(','));
  });

  it('CSV has one row per result row with the values in the header order, quoting what needs it', () => {
    const res = sampleResult();
    res.rows[0].singleton.action = 'used "running" stats, twice';
    const rows = parseCsv(toCsv(res));
    expect(rows.length).toBe(1 + res.rows.length);
    const header = rows[0];
    const at = (r: string[], col: string): string => r[header.indexOf(col)];
    expect(at(rows[1], 'normalizer')).toBe('batch');
    expect(Number(at(rows[1], 'error'))).toBe(0.4);
    expect(at(rows[1], 'singletonAction')).toBe('used "running" stats, twice');
    expect(at(rows[4], 'batchSize')).toBe('poisson:8');
    expect(rows.every((r) => r.length === csvColumns.length)).toBe(true);
  });

  it('markdown table has a line per row and a per-normalizer summary with the BN gap and the singleton action', () => {
    const md = toMarkdown(sampleResult());
    const tableLines = md.split('\n').filter((l) => l.startsWith('| batch ') || l.startsWith('| layer '));
    expect(tableLines.length).toBe(8 + 2);
    expect(md).toContain('1: 0.2000');
    expect(md).toContain('0 (same computation in training and inference)');
    expect(md).toContain('not needed: N·L = 14 > 1 per channel');
    const s = summarize(sampleResult());
    expect(s.map((x) => x.normalizer)).toEqual(['batch', 'layer']);
    expect(s[0].bestError).toBe('20.00% at 16');
  });

  it('formatTable aligns columns and shows error as a percentage with its spread', () => {
    const t = formatTable(sampleResult()).trimEnd().split('\n');
    expect(t.length).toBe(2 + 8);
    expect(new Set(t.map((l) => l.length)).size).toBe(1);
    expect(t[2]).toContain('40.00% ± 2.00%');
  });
});
