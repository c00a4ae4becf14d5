/**
 * `streamnorm replay --variants` on a recording with hostile lines: the schema comes from flags or a
 * bounded sample (never the first line, never max(y) + 1), dead letters are reported with their line numbers,
 * and --strict stops at the first bad line with the data-error exit code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEvents } from '../integration/helpers/kafka.js';
import { runCli } from './cliHelpers.js';

describe('replay --variants with hostile lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamnorm-replay-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'rec.jsonl');
  const line = (i: number, value: unknown) =>
    JSON.stringify({ topic: 't', partition: 0, offset: String(i), timestamp: i, key: null, value });
  const events = makeEvents(1500, 5, 4);
  const lines = [
    line(0, { id: 'odd', ts: 0, x: [1, 2, 3], y: 1 }), // line 1: another shape
    ...events.map((e, i) => line(i + 1, e)), // lines 2..1501
    line(1501, { id: 'big-label', ts: 1, x: [1, 2, 3, 4], y: 100000 }), // line 1502
    `{"topic":"t","partition":0,"offset":"1502","timestamp":1,"key":null,"value":{"id":"deep","ts":1,"x":${'['.repeat(5000)}${']'.repeat(5000)}}}`, // line 1503
  ];
  writeFileSync(path, lines.join('\n') + '\n');

  it('learns the 1,500 valid events and reports the three bad lines with their line numbers (exit 0)', async () => {
    const r = await runCli(['replay', '--recording', path, '--variants', 'linear', '--log-level', 'silent']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('streamnorm: replay: line 1: bad_shape: x is vector[3], expected vector[4]');
    expect(r.stderr).toContain(
      'streamnorm: replay: line 1502: bad_label: y = 100000 is not a class in [0, 2)',
    );
    expect(r.stderr).toMatch(/streamnorm: replay: line 1503: bad_shape: /);
    expect(r.stdout).toMatch(/\s1500\s/);
  }, 120_000);

  it('takes classes and dim from flags', async () => {
    const r = await runCli([
      'replay',
      '--recording',
      path,
      '--variants',
      'linear',
      '--classes',
      '3',
      '--dim',
      '3',
      '--log-level',
      'silent',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // With --dim 3 the odd first line is the valid one, and the 1,500 four-dimensional events are dead letters.
    expect(r.stderr).toContain('streamnorm: replay: line 2: bad_shape: x is vector[4], expected vector[3]');
    expect(r.stderr).toMatch(
      /streamnorm: replay: 1502 dead letters in .*rec\.jsonl \(bad_shape 1502, 1482 not shown\)/,
    );
  }, 120_000);

  it('--strict stops at the first bad line with the data-error exit code', async () => {
    const r = await runCli([
      'replay',
      '--recording',
      path,
      '--variants',
      'linear',
      '--strict',
      '--log-level',
      'silent',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('line 1 of');
    expect(r.stderr).toContain('--strict stops at the first bad line');
  }, 120_000);
});
