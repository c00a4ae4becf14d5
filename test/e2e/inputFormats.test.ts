/**
 * Bringing your own data, as a user would: plain JSON Lines of events and CSV (with and without a column
 * mapping) through `replay` and `compare`; bad lines reported on stderr with their line numbers and reasons,
 * all of them in --dead-letters FILE, and --strict stopping at the first one. The commands are the README's
 * "Bring your own data" section.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliHelpers.js';

let dir: string;
const N = 240;

/** A seeded linearly separable stream: y = 1 when x0 + x1 > 1. */
function rows(): { x: number[]; y: number }[] {
  let s = 12345;
  const rnd = (): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Array.from({ length: N }, () => {
    const x = [rnd(), rnd(), rnd()].map((v) => Number(v.toFixed(4)));
    return { x, y: x[0] + x[1] > 1 ? 1 : 0 };
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'streamnorm-input-e2e-'));
  const data = rows();
  const jsonl = data.map((r, i) => JSON.stringify({ id: `e${i}`, ts: 1_700_000_000_000 + i, ...r }));
  // line 11 is cut short, line 31 has a NaN written as text
  jsonl[10] = '{"id":"e10","ts":1700000000010,"x":[0.1,';
  jsonl[30] = '{"id":"e30","ts":1700000000030,"x":[0.1,"NaN",0.3],"y":1}';
  writeFileSync(join(dir, 'events.jsonl'), jsonl.join('\n') + '\n');
  // CSV with a header: sensor,f0,f1,f2,label; line 8 (row 7) has a bad cell, line 21 is short
  const csv = ['sensor,f0,f1,f2,label', ...data.map((r, i) => [`s${i % 3}`, ...r.x, r.y].join(','))];
  csv[7] = 's0,0.5,oops,0.2,1';
  csv[20] = 's1,0.5';
  writeFileSync(join(dir, 'events.csv'), csv.join('\n') + '\n');
  // the same data without a header, label first, semicolons
  writeFileSync(join(dir, 'plain.csv'), data.map((r) => [r.y, ...r.x].join(';')).join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const modelRow = (stdout: string, name: string): string[] =>
  (stdout.split('\n').find((l) => l.startsWith(name + ' ')) ?? '').trim().split(/\s+/);

describe('replay on your own data', () => {
  it('plain JSON Lines of events: learns the good lines, reports the bad ones by line number', async () => {
    const r = await runCli([
      'replay',
      '--input',
      join(dir, 'events.jsonl'),
      '--variants',
      'linear',
      '--log-level',
      'silent',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(modelRow(r.stdout, 'linear')[2]).toBe(String(N - 2));
    expect(r.stderr).toMatch(/^streamnorm: replay: line 11: bad_json: /m);
    expect(r.stderr).toMatch(/^streamnorm: replay: line 31: bad_shape: x\[1\] must be a number/m);
    expect(r.stderr).toMatch(
      /^streamnorm: replay: 2 dead letters in .*events\.jsonl \(bad_json 1, bad_shape 1\)/m,
    );
  });

  it('CSV with a header and a column mapping, dead letters in a file', async () => {
    const dead = join(dir, 'dead.jsonl');
    const r = await runCli([
      'replay',
      '--input',
      join(dir, 'events.csv'),
      '--csv-columns',
      'x=f0..f2,y=label,key=sensor',
      '--variants',
      'linear',
      '--dead-letters',
      dead,
      '--log-level',
      'silent',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(modelRow(r.stdout, 'linear')[2]).toBe(String(N - 2));
    expect(r.stderr).toContain('streamnorm: replay: line 8: bad_shape: x[1]: f1 is "oops", not a number');
    expect(r.stderr).toContain('streamnorm: replay: line 21: missing_field: x[1]: the row has 2 columns');
    const letters = readFileSync(dead, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string; raw: string });
    expect(letters.map((l) => [l.line, l.reason, l.raw])).toEqual([
      [8, 'bad_shape', 's0,0.5,oops,0.2,1'],
      [21, 'missing_field', 's1,0.5'],
    ]);
  });

  it('CSV without a header, by 0-based index, another delimiter, --format csv', async () => {
    const r = await runCli([
      'replay',
      '--input',
      join(dir, 'plain.csv'),
      '--format',
      'csv',
      '--csv-delimiter',
      ';',
      '--csv-columns',
      'y=0,x=1..3',
      '--variants',
      'linear',
      '--log-level',
      'silent',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(modelRow(r.stdout, 'linear')[2]).toBe(String(N));
    expect(r.stderr).not.toContain('streamnorm:');
  });

  it('CSV without a mapping: label by header name, text columns are no features', async () => {
    const r = await runCli([
      'replay',
      '--input',
      join(dir, 'events.csv'),
      '--variants',
      'linear',
      '--log-level',
      'silent',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(modelRow(r.stdout, 'linear')[2]).toBe(String(N - 2));
  });

  it('--strict stops at the first bad line: exit 3, its line number and reason', async () => {
    const r = await runCli([
      'replay',
      '--input',
      join(dir, 'events.csv'),
      '--variants',
      'linear',
      '--strict',
      '--log-level',
      'silent',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^streamnorm: line 8 of .*events\.csv: bad_shape: x\[1\]: f1 is "oops"/m);
    expect(r.stdout).toBe('');
  });

  it('a mapping that names a missing column is one usage error', async () => {
    const r = await runCli(['replay', '--input', join(dir, 'events.csv'), '--csv-columns', 'y=lable']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^streamnorm: --csv-columns: no column named 'lable' \(header: sensor, f0, f1, f2, label\)$/,
    );
  });
});

describe('compare on your own data', () => {
  it.each([
    ['events.jsonl', [] as string[], N - 2],
    ['events.csv', ['--csv-columns', 'x=1..3,y=4'], N - 2],
  ])('%s through compare: every row learns the good lines', async (name, extra, events) => {
    const out = join(dir, `cmp-${name}`);
    const r = await runCli([
      'compare',
      '--input',
      join(dir, name),
      ...extra,
      '--variants',
      'layer,none',
      '--batch-sizes',
      '1,4',
      '--seeds',
      '1',
      '--jobs',
      '1',
      '--out',
      out,
      '--quiet',
      '--log-level',
      'silent',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^streamnorm: compare: 2 dead letters in /m);
    expect(existsSync(join(out, 'results.json'))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: { events: number; status?: string }[];
    };
    expect(json.rows).toHaveLength(4);
    for (const row of json.rows) expect(row.events).toBe(events);
  });
});
