/**
 * `streamnorm compare` end to end: the files and fields it writes, arrival orders and equal steps through
 * the CLI, the model family flags, and the checks that refuse a run before any cell (one line, exit 2,
 * nothing written).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root, runCli } from './cliHelpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'streamnorm-compare-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLine(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  expect(lines, `stderr was:\n${r.stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(/^streamnorm: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.code).toBe(code);
}

describe('compare on a small grid', () => {
  it('writes results.json, results.csv, results.md and the charts with the documented fields, per arrival order, and prints the table', async () => {
    const out = join(dir, 'cmp');
    const r = await runCli(
      [
        'compare',
        '--dataset',
        'synthetic',
        '--max-events',
        '240',
        '--variants',
        'batch,layer,group:4',
        '--batch-sizes',
        '1,4,poisson:4',
        '--arrival',
        'iid,bursty:8',
        '--step-events',
        '8',
        '--warmup',
        '40',
        '--seeds',
        '2',
        '--jobs',
        '2',
        '--hidden',
        '8',
        '--out',
        out,
      ],
      { timeoutMs: 170_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['results.json', 'results.csv', 'results.md', 'chart.svg', 'chart-loss.svg'])
      expect(existsSync(join(out, f))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: Record<string, unknown>[];
      meta: { events: number; arrivals: string[]; warmup: number; stepEvents: number };
    };
    expect(json.meta.events).toBe(240);
    expect(json.meta.arrivals).toEqual(['iid', 'bursty:8']);
    expect(json.meta.warmup).toBe(40);
    expect(json.rows).toHaveLength(18);
    for (const row of json.rows) {
      for (const k of [
        'normalizer',
        'batchSize',
        'arrival',
        'stepEvents',
        'steps',
        'lr',
        'seeds',
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
        'status',
        'singleton',
      ])
        expect(row).toHaveProperty(k);
      expect(row.status).toBe('ok');
      expect(row.seeds).toBe(2);
      expect(row.events).toBe(240);
      expect(row.stepEvents).toBe(8);
      expect(row.lr).toBe(0.01);
      if (typeof row.batchSize === 'number') expect(row.steps).toBe(30);
      expect(row.error as number).toBeGreaterThanOrEqual(0);
      expect(row.error as number).toBeLessThanOrEqual(1);
      expect(row.errorCi95 as number).toBeGreaterThanOrEqual(0);
      expect(row.eventsPerSecond as number).toBeGreaterThan(0);
      if (row.normalizer !== 'batch') {
        expect(row.trainEvalGap).toBe(0);
        expect(row).toHaveProperty('errorDiffVsBatch');
        expect(row).toHaveProperty('errorDiffVsBatchCi95');
      }
    }
    // BatchNorm predicts differently with batch statistics than with running statistics
    expect(
      json.rows.filter((x) => x.normalizer === 'batch').some((x) => (x.trainEvalGap as number) > 0),
    ).toBe(true);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').split('\n').filter(Boolean)).toHaveLength(19);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toContain('| arrival | normalizer | batch |');
    expect(md).toContain('## Arrival: bursty:8');
    expect(md).toContain('## Reading');
    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    expect((svg.match(/<g class="panel"/g) ?? []).length).toBe(2);
    expect((svg.match(/<g class="series"/g) ?? []).length).toBe(6);
    expect(r.stdout).toMatch(/^arrival\s+normalizer\s+batch\s+steps\s+lr\s+error/m);
    expect(
      r.stdout.split('\n').filter((l) => /^(iid|bursty:8)\s+(batch|layer|group:4)\s/.test(l)),
    ).toHaveLength(18);
    expect(r.stdout).toMatch(/majority-class baseline error \d+\.\d\d%/);
  });

  it('reads a recording and takes defaults from a config file; one seed prints no spread', async () => {
    const out = join(dir, 'cmp-rec');
    const cfg = join(dir, 'compare.yaml');
    writeFileSync(
      cfg,
      `compare:\n  normalizers: [layer, none]\n  batchSizes: [2, 8]\n  seeds: 1\n  out: ${out}\n  limit: 200\n  jobs: 1\n`,
    );
    const r = await runCli([
      'compare',
      '--recording',
      join(root, 'data', 'sensor.jsonl'),
      '--config',
      cfg,
      '--arrival',
      'keyed:4',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: { normalizer: string; batchSize: number; events: number; errorCi95: unknown; arrival: string }[];
      meta: { source: string };
    };
    expect(json.meta.source).toContain('sensor.jsonl');
    expect(json.rows.map((x) => `${x.arrival}/${x.normalizer}@${x.batchSize}`)).toEqual([
      'keyed:4/layer@2',
      'keyed:4/layer@8',
      'keyed:4/none@2',
      'keyed:4/none@8',
    ]);
    expect(json.rows.every((x) => x.events === 200 && x.errorCi95 === null)).toBe(true);
    const table = r.stdout.split('\n').filter((l) => /^keyed:4\s/.test(l));
    expect(table).toHaveLength(4);
    expect(table.join('\n')).not.toContain('±');
  });

  it('--model mlp --hidden 16,8 on mnist: a two-layer Mlp from the family descriptor; --lr auto puts the chosen rate in each row', async () => {
    const out = join(dir, 'cmp-mnist');
    const r = await runCli(
      [
        'compare',
        '--dataset',
        'mnist',
        '--max-events',
        '200',
        '--model',
        'mlp',
        '--hidden',
        '16,8',
        '--variants',
        'layer',
        '--batch-sizes',
        '8',
        '--lr',
        'auto',
        '--seeds',
        '1',
        '--jobs',
        '1',
        '--quiet',
        '--out',
        out,
      ],
      { timeoutMs: 170_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      rows: { lr: number; status: string }[];
      meta: { model: { family: string; hidden: number[] }; shape: number[]; lr: string; lrGrid: number[] };
    };
    expect(json.meta.model.family).toBe('mlp');
    expect(json.meta.model.hidden).toEqual([16, 8]);
    expect(json.meta.shape).toEqual([784]);
    expect(json.meta.lr).toBe('auto');
    expect(json.rows[0].status).toBe('ok');
    expect(json.meta.lrGrid).toContain(json.rows[0].lr);
  });
});

describe('compare refuses a bad run before any cell, writing nothing', () => {
  it("group:3 over the WindowNet's 16 channels: exit 2, one line naming it, no output directory", async () => {
    const out = join(dir, 'never');
    const r = await runCli([
      'compare',
      '--dataset',
      'synthetic',
      '--max-events',
      '100',
      '--variants',
      'batch,group:3',
      '--batch-sizes',
      '4',
      '--out',
      out,
    ]);
    expectOneLine(r, 2, /group:3/);
    expect(existsSync(out)).toBe(false);
  });

  it('an --out that cannot be written: exit 2 before the run', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli([
      'compare',
      '--dataset',
      'synthetic',
      '--max-events',
      '100',
      '--out',
      join(file, 'sub'),
    ]);
    expectOneLine(r, 2, /--out: .*a-file.* not a directory/);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o500);
      const r2 = await runCli([
        'compare',
        '--dataset',
        'synthetic',
        '--max-events',
        '100',
        '--out',
        join(locked, 'x'),
      ]);
      expectOneLine(r2, 2, /--out: .*locked.* not writable/);
      expect(readdirSync(locked)).toEqual([]);
      chmodSync(locked, 0o700);
    }
  });

  it('bad --arrival, --step-events and --lr values: one line each, exit 2', async () => {
    expectOneLine(
      await runCli(['compare', '--dataset', 'synthetic', '--arrival', 'bursty:0']),
      2,
      /bursty:0/,
    );
    expectOneLine(
      await runCli(['compare', '--dataset', 'synthetic', '--step-events', 'some']),
      2,
      /--step-events/,
    );
    expectOneLine(await runCli(['compare', '--dataset', 'synthetic', '--lr', 'fast']), 2, /--lr/);
    expectOneLine(await runCli(['compare', '--dataset', 'synthetic', '--model', 'linear']), 2, /--model/);
  });
});
