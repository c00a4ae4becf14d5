import { describe, expect, it } from 'vitest';
import { syntheticEvents } from '../../../src/datasets/synthetic.js';
import { ConfigError } from '../../../src/errors.js';
import { parseBatchSizes, runCell, isPerSampleSpec } from '../../../src/experiment/cell.js';
import { runCompare, validateGrid } from '../../../src/experiment/compare.js';
import { inferClasses, inferShape } from '../../../src/experiment/source.js';
import { Rng } from '../../../src/core/rng.js';
import type { StreamEvent } from '../../../src/streams/event.js';

const windows = syntheticEvents({ n: 120, seed: 5, length: 16, channels: 2 });

/** Dense 6-d vectors, label = sign of a fixed linear function. */
function vectors(n: number): StreamEvent[] {
  const rng = new Rng(3);
  return Array.from({ length: n }, (_, i) => {
    const x = Array.from({ length: 6 }, () => rng.normal());
    return { id: `v${i}`, ts: i, x, y: x[0] + 0.5 * x[1] - x[2] > 0 ? 1 : 0 };
  });
}

describe('parseBatchSizes', () => {
  it('reads fixed sizes and poisson means', () => {
    expect(parseBatchSizes('1, 4,poisson:8')).toEqual([
      { kind: 'fixed', size: 1 },
      { kind: 'fixed', size: 4 },
      { kind: 'poisson', mean: 8 },
    ]);
  });
  it('rejects bad entries naming the flag and the value', () => {
    expect(() => parseBatchSizes('1,0', '--batch-sizes')).toThrow(/--batch-sizes: .*'0'/);
    expect(() => parseBatchSizes('poisson:0.5')).toThrow(ConfigError);
    expect(() => parseBatchSizes('x')).toThrow(/'x'/);
    expect(() => parseBatchSizes('')).toThrow(/no batch sizes/);
  });
});

describe('validateGrid', () => {
  it('accepts the design normalizers and rejects others, bad seeds and jobs', () => {
    expect(() =>
      validateGrid(['batch', 'layer', 'instance', 'group:4', 'batchrenorm', 'online', 'none'], 1),
    ).not.toThrow();
    expect(() => validateGrid(['batchnorm'], 1)).toThrow(/normalizers: .*batchnorm/);
    expect(() => validateGrid(['batch'], 0)).toThrow(/seeds/);
    expect(() => validateGrid(['batch'], 1, 1.5)).toThrow(/jobs/);
  });
  it('knows which normalizers are per sample', () => {
    expect(['layer', 'instance', 'group:2', 'none'].every(isPerSampleSpec)).toBe(true);
    expect(['batch', 'batchrenorm', 'online'].some(isPerSampleSpec)).toBe(false);
  });
});

describe('runCell (the prequential loop of one cell)', () => {
  const shape = inferShape(windows);
  const classes = inferClasses(windows);

  it('scores every event once and is deterministic for a seed', () => {
    const task = { normalizer: 'batch', batch: { kind: 'poisson' as const, mean: 4 }, seed: 2 };
    const a = runCell(windows, shape, classes, task, { hidden: 4 });
    const b = runCell(windows, shape, classes, task, { hidden: 4 });
    expect(a.failed).toBeUndefined();
    expect(a.events).toBe(120);
    expect(a.perClass.reduce((s, [, t]) => s + t, 0)).toBe(120);
    expect({ ...a, seconds: 0 }).toEqual({ ...b, seconds: 0 });
    expect(a.batches).toBeGreaterThan(120 / 8);
    expect(a.batches).toBeLessThan(120 / 2);
  });

  it('measures a train-eval gap for BatchNorm and none for LayerNorm', () => {
    const bn = runCell(
      windows,
      shape,
      classes,
      { normalizer: 'batch', batch: { kind: 'fixed', size: 4 }, seed: 1 },
      { hidden: 4 },
    );
    const ln = runCell(
      windows,
      shape,
      classes,
      { normalizer: 'layer', batch: { kind: 'fixed', size: 4 }, seed: 1 },
      { hidden: 4 },
    );
    expect(bn.gapCount).toBe(120);
    expect(bn.gapSum / bn.gapCount).toBeGreaterThan(1e-4);
    expect(ln.gapCount).toBe(0);
  });

  it('reports what the singleton policy did for vectors at batch size 1', () => {
    const ev = vectors(40);
    const vs = inferShape(ev);
    const run = runCell(
      ev,
      vs,
      2,
      { normalizer: 'batch', batch: { kind: 'fixed', size: 1 }, seed: 1 },
      { hidden: 4, singletonPolicy: 'running-stats' },
    );
    expect(run.failed).toBeUndefined();
    expect(run.singletonBatches).toBe(40);
    expect(run.singletonRunningStats).toBe(40);
    const skip = runCell(
      ev,
      vs,
      2,
      { normalizer: 'batch', batch: { kind: 'fixed', size: 1 }, seed: 1 },
      { hidden: 4, singletonPolicy: 'skip' },
    );
    expect(skip.singletonSkipped).toBe(40);
    const err = runCell(
      ev,
      vs,
      2,
      { normalizer: 'batch', batch: { kind: 'fixed', size: 1 }, seed: 1 },
      { hidden: 4, singletonPolicy: 'error' },
    );
    expect(err.failed).toMatch(/more than 1 value per channel/i);
  });

  it('turns an impossible combination into a failed cell with the reason', () => {
    const ev = vectors(10);
    const r = runCell(ev, inferShape(ev), 2, {
      normalizer: 'instance',
      batch: { kind: 'fixed', size: 2 },
      seed: 1,
    });
    expect(r.failed).toMatch(/instance/i);
  });
});

describe('runCompare', () => {
  it('aggregates seeds into one row per (normalizer, batch size), identical with worker threads and in-thread', async () => {
    const opts = {
      source: { dataset: 'synthetic', options: { limit: 120, synthetic: { length: 16, channels: 2 } } },
      normalizers: ['batch', 'group:2'],
      batchSizes: parseBatchSizes('2,poisson:4'),
      seeds: 2,
      model: { hidden: 4 },
    };
    const inThread = await runCompare({ ...opts, jobs: 1 });
    const threaded = await runCompare({ ...opts, jobs: 2 });
    expect(inThread.rows.map((r) => `${r.normalizer}@${r.batchSize}`)).toEqual([
      'batch@2',
      'batch@poisson:4',
      'group:2@2',
      'group:2@poisson:4',
    ]);
    expect(threaded.meta.jobs).toBe(2);
    for (let i = 0; i < inThread.rows.length; i++) {
      const a = inThread.rows[i];
      const b = threaded.rows[i];
      expect(b.error).toBe(a.error);
      expect(b.loss).toBe(a.loss);
      expect(b.errorStd).toBe(a.errorStd);
      expect(b.trainEvalGap).toBe(a.trainEvalGap);
      expect(a.seeds).toBe(2);
      expect(a.events).toBe(120);
    }
    const gn = inThread.rows[2];
    expect(gn.trainEvalGap).toBe(0);
    expect(inThread.rows[0].trainEvalGap).toBeGreaterThan(0);
    expect(inThread.rows[1].meanBatchSize).toBeGreaterThan(3);
    expect(inThread.rows[1].meanBatchSize).toBeLessThan(5);
    expect(inThread.meta.baselineError).toBeGreaterThan(0.3);
    expect(inThread.meta.shape).toEqual([2, 16]);
  });

  it('refuses sparse events with a clear message', async () => {
    await expect(
      runCompare({
        source: { dataset: 'spam', options: { limit: 20 } },
        normalizers: ['layer'],
        batchSizes: parseBatchSizes('4'),
        seeds: 1,
        jobs: 1,
      }),
    ).rejects.toThrow(/sparse events/);
  });
});
