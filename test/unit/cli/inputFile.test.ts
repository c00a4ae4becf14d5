import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { RejectedValue } from '../../../src/streams/decodeEvents.js';
import {
  csvRowValue,
  detectInputFormat,
  parseCsvColumns,
  readInputFileSync,
  resolveCsvColumns,
} from '../../../src/streams/inputFile.js';
import { readInputEvents } from '../../../src/streams/inputEvents.js';

const dir = mkdtempSync(join(tmpdir(), 'streamnorm-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('parseCsvColumns', () => {
  it('reads indices, ranges, names and continued lists', () => {
    expect(parseCsvColumns('x=1..3,y=4,key=0')).toEqual({ x: [[1, 3]], y: 4, key: 0 });
    expect(parseCsvColumns('x=a,b,5,y=label')).toEqual({ x: ['a', 'b', 5], y: 'label' });
  });
  it('refuses unknown fields, repeats and items without a field', () => {
    expect(() => parseCsvColumns('z=1')).toThrow(ConfigError);
    expect(() => parseCsvColumns('y=1,y=2')).toThrow(/twice/);
    expect(() => parseCsvColumns('1,y=2')).toThrow(/no field/);
    expect(() => parseCsvColumns('y=1,2')).toThrow(/one column/);
  });
});

describe('resolveCsvColumns', () => {
  it('without a mapping: label by header name, x the other columns', () => {
    const c = resolveCsvColumns(undefined, ['id', 'a', 'b', 'label'], 4);
    expect(c).toMatchObject({ id: 0, y: 3, x: [1, 2] });
  });
  it('without a header: the last column is y', () => {
    expect(resolveCsvColumns(undefined, null, 3)).toMatchObject({ y: 2, x: [0, 1] });
  });
  it('a mapping without x takes every unused column as x', () => {
    expect(resolveCsvColumns(parseCsvColumns('y=0,key=1'), null, 4)).toMatchObject({ x: [2, 3] });
  });
  it('names a missing column and refuses names without a header', () => {
    expect(() => resolveCsvColumns(parseCsvColumns('y=9'), null, 3)).toThrow(/column 9 does not exist/);
    expect(() => resolveCsvColumns(parseCsvColumns('y=label'), null, 3)).toThrow(/no header/);
    expect(() => resolveCsvColumns(parseCsvColumns('x=0..1,y=1'), null, 3)).toThrow(/both/);
  });
});

describe('csvRowValue', () => {
  const cols = resolveCsvColumns(undefined, ['a', 'b', 'y'], 3);
  it('maps a row to an event', () => {
    expect(csvRowValue(['1.5', '-2', '1'], cols, 7, '')).toEqual({ id: '7', ts: 0, x: [1.5, -2], y: 1 });
  });
  it('an empty label is an unlabelled event', () => {
    expect(csvRowValue(['1', '2', ''], cols, 3, '')).toEqual({ id: '3', ts: 0, x: [1, 2] });
  });
  it('names the column of a bad cell', () => {
    const r = csvRowValue(['1', 'abc', '0'], cols, 3, '1,abc,0');
    expect(r).toBeInstanceOf(RejectedValue);
    expect((r as RejectedValue).detail).toMatch(/b is "abc", not a number/);
    expect((csvRowValue(['1', 'NaN', '0'], cols, 3, '') as RejectedValue).reason).toBe('bad_shape');
    expect((csvRowValue(['1', 'Infinity', '0'], cols, 3, '') as RejectedValue).reason).toBe('non_finite');
    expect((csvRowValue(['1'], cols, 3, '') as RejectedValue).reason).toBe('missing_field');
  });
});

describe('detectInputFormat and reading', () => {
  const rec = JSON.stringify({
    topic: 't',
    partition: 0,
    offset: '0',
    timestamp: 1,
    key: null,
    value: { id: 'a', ts: 1, x: [1], y: 0 },
  });
  it('tells recordings, JSON Lines and CSV apart', () => {
    expect(detectInputFormat(file('r.jsonl', `\n${rec}\n`))).toBe('recording');
    expect(detectInputFormat(file('e.jsonl', '{"id":"a","ts":1,"x":[1]}\n'))).toBe('jsonl');
    expect(detectInputFormat(file('c.csv', 'a,b\n1,2\n'))).toBe('csv');
    expect(detectInputFormat(file('c2.csv', 'a,b\n'), { format: 'jsonl' })).toBe('jsonl');
  });
  it('keeps CSV line numbers across quoted newlines, blank lines and the header', () => {
    const p = file('q.csv', 'a,b,y\n1,2,0\n\n"3\n",4,1\n5,x,0\n');
    const lines = readInputFileSync(p).map((l) => l.line);
    expect(lines).toEqual([2, 4, 6]);
    const bad: number[] = [];
    const r = readInputEvents(p, {}, { onDeadLetter: (line) => bad.push(line) });
    expect(r.events.map((e) => e.x)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(bad).toEqual([6]);
  });
  it('an unclosed quote is one I/O error naming the line', () => {
    expect(() => readInputFileSync(file('u.csv', 'a,b\n1,"2\n3,4\n'))).toThrow(/line \d/);
  });
});
