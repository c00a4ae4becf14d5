import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  csvColumns,
  formatTable,
  reading,
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

  it('writes the five files; results.json has the documented row fields, failed rows none of the numbers', () => {
    const paths = writeResults(join(dir, 'out'), sampleResult());
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as {
      rows: Record<string, unknown>[];
      meta: unknown;
    };
    expect(json.rows.length).toBe(16);
    for (const r of json.rows) {
      for (const k of ['normalizer', 'batchSize', 'arrival', 'stepEvents', 'lr', 'seeds', 'status'])
        expect(r).toHaveProperty(k);
      if (r.status === 'failed') {
        expect(r.reason).toMatch(/seed 2/);
        for (const k of ['error', 'loss', 'events', 'steps', 'errorCi95', 'baselineError'])
          expect(r).not.toHaveProperty(k);
        continue;
      }
      for (const k of [
        'steps',
        'events',
        'loss',
        'error',
        'lossStd',
        'errorStd',
        'errorCi95',
        'lossCi95',
        'errorAfterWarmup',
        'lossAfterWarmup',
        'balancedError',
        'baselineError',
        'auprc',
        'eventsPerSecond',
        'trainEvalGap',
        'trainEvalKl',
        'singleton',
      ])
        expect(r).toHaveProperty(k);
    }
    expect(json.rows.filter((r) => r.status === 'failed')).toHaveLength(1);
    expect(readFileSync(paths.svg, 'utf8')).toContain('<svg');
    expect(readFileSync(paths.lossSvg, 'utf8')).toContain('data-metric="loss"');
    expect(readFileSync(paths.md, 'utf8')).toContain(
      '![prequential error against arrival batch size](chart.svg)',
    );
    expect(readFileSync(paths.csv, 'utf8').split('\n')[0]).toBe(csvColumns.join(','));
  });

  it('CSV has one row per result row with the values in the header order, quoting what needs it', () => {
    const res = sampleResult();
    const first = res.rows[0];
    if (first.status === 'ok') first.singleton.action = 'used "running" stats, twice';
    const rows = parseCsv(toCsv(res));
    expect(rows.length).toBe(1 + res.rows.length);
    const header = rows[0];
    const at = (r: string[], col: string): string => r[header.indexOf(col)];
    expect(at(rows[1], 'normalizer')).toBe('batch');
    expect(at(rows[1], 'arrival')).toBe('iid');
    expect(Number(at(rows[1], 'error'))).toBe(0.4);
    expect(Number(at(rows[1], 'errorCi95'))).toBe(0.0497);
    expect(at(rows[1], 'singletonAction')).toBe('used "running" stats, twice');
    if (first.status === 'ok')
      expect(at(rows[1], 'singletonTriggered')).toBe(String(first.singleton.triggered));
    expect(at(rows[4], 'batchSize')).toBe('poisson:8');
    const failed = rows.find((r) => at(r, 'status') === 'failed') as string[];
    expect(at(failed, 'reason')).toBe('seed 2: something "quoted" broke');
    expect(at(failed, 'error')).toBe('');
    expect(rows.every((r) => r.length === csvColumns.length)).toBe(true);
  });

  it('markdown has a table per arrival order, the baseline, the columns explained and a reading', () => {
    const md = toMarkdown(sampleResult());
    expect(md).toContain('## Arrival: iid');
    expect(md).toContain('## Arrival: bursty:8');
    const tableLines = md.split('\n').filter((l) => /^\| (iid|bursty:8) /.test(l));
    expect(tableLines.length).toBe(16);
    expect(md).toContain('majority-class baseline error 50.00%');
    expect(md).toContain('failed: seed 2');
    expect(md).toContain('`vs batch (pp)`');
    // LayerNorm's paired difference -10 ± 3 pp excludes 0: the reading names it as better
    expect(md).toMatch(/Better than BatchNorm[^\n]*layer at 1 \(−10\.00 ± 3\.00 pp\)/);
  });

  it('the reading needs intervals: one seed says so instead of naming winners', () => {
    const one = sampleResult();
    one.meta.seeds = 1;
    expect(reading(one)).toEqual([expect.stringMatching(/One seed: no intervals/)]);
  });

  it('formatTable aligns columns and shows error with its 95 % interval; one seed shows no spread', () => {
    const t = formatTable(sampleResult()).trimEnd().split('\n');
    const body = t.slice(2, 18);
    expect(body.length).toBe(16);
    expect(t[2]).toContain('40.00% ± 4.97%');
    expect(t[6]).toContain('−10.00 ± 3.00');
    expect(t[t.length - 1]).toMatch(/majority-class baseline error 50.00%/);
    const single = sampleResult();
    single.meta.seeds = 1;
    for (const r of single.rows)
      if (r.status === 'ok') {
        r.seeds = 1;
        r.errorCi95 = null;
        r.lossCi95 = null;
        r.errorDiffVsBatchCi95 = r.errorDiffVsBatch === undefined ? undefined : null;
      }
    const s = formatTable(single);
    expect(s).not.toContain('±');
    expect(s).toContain('one seed: no interval');
  });
});
