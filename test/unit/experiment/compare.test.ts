import { describe, expect, it } from 'vitest';
import { syntheticEvents } from '../../../src/datasets/synthetic.js';
import { ConfigError } from '../../../src/errors.js';
import { parseBatchSizes, runCell, isPerSampleSpec, type CellResult } from '../../../src/experiment/cell.js';
import {
  aggregateCells,
  pickRates,
  runCompare,
  TUNING_SEED,
  validateAgainstModel,
  validateGrid,
} from '../../../src/experiment/compare.js';
import { DrawCache } from '../../../src/experiment/draw.js';
import type { CompareRow, CompareRowOk } from '../../../src/experiment/types.js';
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

const ok = (r: CompareRow): CompareRowOk => {
  if (r.status !== 'ok') throw new Error(`row ${r.normalizer}@${r.batchSize} failed: ${r.reason}`);
  return r;
};

const smallSynthetic = {
  dataset: 'synthetic',
  options: { limit: 120, synthetic: { length: 16, channels: 2 } },
};

describe('runCompare', () => {
  it('aggregates seeds into one row per (arrival, normalizer, batch size), identical with worker threads and in-thread', async () => {
    const opts = {
      source: smallSynthetic,
      normalizers: ['batch', 'group:2'],
      batchSizes: parseBatchSizes('2,poisson:4'),
      arrivals: ['iid', 'bursty:4'],
      seeds: 2,
      model: { hidden: 4 },
    };
    const inThread = await runCompare({ ...opts, jobs: 1 });
    const threaded = await runCompare({ ...opts, jobs: 2 });
    expect(inThread.rows.map((r) => `${r.arrival}/${r.normalizer}@${r.batchSize}`)).toEqual([
      'iid/batch@2',
      'iid/batch@poisson:4',
      'iid/group:2@2',
      'iid/group:2@poisson:4',
      'bursty:4/batch@2',
      'bursty:4/batch@poisson:4',
      'bursty:4/group:2@2',
      'bursty:4/group:2@poisson:4',
    ]);
    expect(threaded.meta.jobs).toBe(2);
    for (let i = 0; i < inThread.rows.length; i++) {
      const a = ok(inThread.rows[i]);
      const b = ok(threaded.rows[i]);
      expect(b.error).toBe(a.error);
      expect(b.loss).toBe(a.loss);
      expect(b.errorCi95).toBe(a.errorCi95);
      expect(b.trainEvalGap).toBe(a.trainEvalGap);
      expect(a.seeds).toBe(2);
      expect(a.events).toBe(120);
      expect(a.stepEvents).toBe(4); // default: the largest batch of the grid (poisson:4)
      expect(a.lr).toBe(0.01);
    }
    const gn = ok(inThread.rows[2]);
    expect(gn.trainEvalGap).toBe(0);
    expect(gn.trainEvalKl).toBe(0);
    expect(gn.errorDiffVsBatch).toBeCloseTo(gn.error - ok(inThread.rows[0]).error, 12);
    expect(ok(inThread.rows[0]).trainEvalGap).toBeGreaterThan(0);
    expect(ok(inThread.rows[0]).trainEvalKl).toBeGreaterThan(0);
    expect(ok(inThread.rows[1]).meanBatchSize).toBeGreaterThan(3);
    expect(ok(inThread.rows[1]).meanBatchSize).toBeLessThan(5);
    expect(ok(inThread.rows[0]).auprc).toBeGreaterThan(0);
    expect(inThread.meta.baselineError).toBeGreaterThan(0.3);
    expect(inThread.meta.shape).toEqual([2, 16]);
    expect(inThread.meta.warmup).toBe(24);
  });

  it("the sensor stream's rows carry per-episode recall and false alarms, the same whether threaded or not", async () => {
    // the first 5,000 sensor windows hold both anomaly episodes (mote 1: 4656–4888, mote 4: 4695–4755)
    const opts = {
      source: { dataset: 'sensor', options: { limit: 5000 } },
      normalizers: ['layer'],
      batchSizes: parseBatchSizes('64'),
      arrivals: ['recorded', 'iid'],
      seeds: 2,
      model: { hidden: 4 },
    };
    const res = await runCompare({ ...opts, jobs: 1 });
    const threaded = await runCompare({ ...opts, jobs: 2 });
    for (const [i, r] of res.rows.map(ok).entries()) {
      expect(r.episodes).toBe(2);
      // each seed detects 0, 1 or 2 of the 2 episodes: the mean over 2 seeds is a multiple of 1/4
      expect(Number.isInteger(4 * r.episodeRecall!)).toBe(true);
      expect(r.episodeRecall).toBeGreaterThanOrEqual(0);
      expect(r.episodeRecall).toBeLessThanOrEqual(1);
      expect(r.falseAlarmsPer1000).toBeGreaterThanOrEqual(0);
      // every error is a missed anomaly or a false alarm: false alarms ≤ errors
      expect(r.falseAlarmsPer1000! / 1000).toBeLessThanOrEqual(r.error + 1e-12);
      expect(ok(threaded.rows[i]).episodeRecall).toBe(r.episodeRecall);
      expect(ok(threaded.rows[i]).falseAlarmsPer1000).toBe(r.falseAlarmsPer1000);
    }
    const synth = await runCompare({ ...opts, source: smallSynthetic, arrivals: ['iid'], seeds: 1, jobs: 1 });
    expect(ok(synth.rows[0]).episodeRecall).toBeUndefined();
  });

  it('--step-events N: every arrival batch size takes the same number of optimizer steps (counted by the model)', async () => {
    const res = await runCompare({
      source: smallSynthetic,
      normalizers: ['batch', 'layer'],
      batchSizes: parseBatchSizes('1,2,4,8'),
      seeds: 2,
      stepEvents: 8,
      jobs: 1,
      model: { hidden: 4 },
    });
    expect(res.rows).toHaveLength(8);
    for (const r of res.rows.map(ok)) {
      expect(r.steps).toBe(120 / 8);
      expect(r.stepEvents).toBe(8);
    }
    // A per-sample normalizer under equal steps never sees the arrival batching: same predictions at every size.
    // (up to the rounding of summing a gradient in another grouping)
    const ln = res.rows.filter((r) => r.normalizer === 'layer').map(ok);
    for (const r of ln) {
      expect(r.loss).toBeCloseTo(ln[0].loss, 9);
      expect(r.error).toBeCloseTo(ln[0].error, 12);
    }
  });

  it('--step-events arrival: one step per arrival batch, so the steps fall with the batch size', async () => {
    const res = await runCompare({
      source: smallSynthetic,
      normalizers: ['layer'],
      batchSizes: parseBatchSizes('1,4,16'),
      seeds: 1,
      stepEvents: 'arrival',
      jobs: 1,
      model: { hidden: 4 },
    });
    expect(res.rows.map((r) => ok(r).steps)).toEqual([120, 30, Math.ceil(120 / 16)]);
    // one seed: no interval
    expect(ok(res.rows[0]).errorCi95).toBeNull();
    expect(ok(res.rows[0]).lossCi95).toBeNull();
  });

  it('checks every spec against the model before any cell runs', async () => {
    let cells = 0;
    const base = {
      source: smallSynthetic,
      batchSizes: parseBatchSizes('4'),
      seeds: 1,
      jobs: 1,
      onCell: () => cells++,
    };
    // the WindowNet's 16 conv channels do not split into 3 groups
    await expect(runCompare({ ...base, normalizers: ['layer', 'group:3'] })).rejects.toThrow(
      /--normalizers: 'group:3' does not fit the windownet on \[2, 16\]/,
    );
    await expect(runCompare({ ...base, normalizers: ['layer', 'group:3'] })).rejects.toBeInstanceOf(
      ConfigError,
    );
    const ev = vectors(20);
    expect(() =>
      validateAgainstModel(ev, inferShape(ev), 2, { normalizers: ['instance'], arrivals: ['iid'] }),
    ).toThrow(/'instance' does not fit the mlp on \[6\]/);
    expect(() => validateAgainstModel(ev, [6], 2, { normalizers: ['layer'], arrivals: ['keyed:4'] })).toThrow(
      /--arrival: 'keyed:4'.*no key/,
    );
    expect(() => validateAgainstModel(ev, [6], 2, { normalizers: ['layer'], warmup: 20 })).toThrow(
      /--warmup/,
    );
    expect(cells).toBe(0);
  });

  it('a cell that fails at run time is a failed row with its reason and no numbers', async () => {
    const res = await runCompare({
      source: smallSynthetic,
      normalizers: ['batch', 'layer'],
      batchSizes: parseBatchSizes('1,4'),
      seeds: 2,
      jobs: 1,
      stepEvents: 'arrival',
      // Mlp-free way to fail at run time: BatchNorm with a 1-wide window after a kernel as wide as the window
      model: { hidden: 4, kernel: 16, singletonPolicy: 'error' },
    });
    const failed = res.rows.find((r) => r.normalizer === 'batch' && r.batchSize === 1) as CompareRow;
    expect(failed.status).toBe('failed');
    expect(failed).toMatchObject({
      arrival: 'iid',
      seeds: 2,
      reason: expect.stringMatching(/^seed 1: .*value per channel/i),
    });
    for (const k of ['error', 'loss', 'events', 'steps', 'errorCi95', 'baselineError'])
      expect(failed).not.toHaveProperty(k);
    expect(
      ok(res.rows.find((r) => r.normalizer === 'layer' && r.batchSize === 1) as CompareRow).errorDiffVsBatch,
    ).toBeUndefined();
    expect(res.rows.filter((r) => r.status === 'ok')).toHaveLength(3);
  });

  it("--lr auto picks each row's rate from the grid on a tuning draw that is never scored", async () => {
    const seen: { seed: number; tuning: boolean; lr: number }[] = [];
    const res = await runCompare({
      source: smallSynthetic,
      normalizers: ['layer'],
      batchSizes: parseBatchSizes('4'),
      seeds: 2,
      jobs: 1,
      lr: 'auto',
      lrGrid: [0.001, 0.05],
      model: { hidden: 4 },
      onCell: (_d, _t, c) => seen.push({ seed: c.seed, tuning: c.tuning, lr: c.lr }),
    });
    const tuning = seen.filter((c) => c.tuning);
    expect(tuning.map((c) => c.lr).sort()).toEqual([0.001, 0.05]);
    expect(tuning.every((c) => c.seed === TUNING_SEED)).toBe(true);
    const row = ok(res.rows[0]);
    expect([0.001, 0.05]).toContain(row.lr);
    expect(seen.filter((c) => !c.tuning).map((c) => c.seed)).toEqual([1, 2]);
    expect(res.meta.lr).toBe('auto');
    expect(res.meta.lrGrid).toEqual([0.001, 0.05]);
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

describe('pickRates', () => {
  const cell = (lr: number, lossSum: number, failed?: string): CellResult => ({
    ...runCellShape,
    lr,
    lossSum,
    events: 10,
    ...(failed === undefined ? {} : { failed }),
  });
  const runCellShape = runCell(
    windows.slice(0, 8),
    inferShape(windows),
    2,
    {
      normalizer: 'layer',
      batch: { kind: 'fixed', size: 4 },
      seed: 1,
      arrival: 'iid',
      tuning: true,
    },
    { hidden: 4 },
  );
  it('takes the lowest tuning loss, the smaller rate on ties, and skips failed runs', () => {
    const key = (m: Map<string, number>): number => [...m.values()][0];
    expect(key(pickRates([cell(0.1, 5), cell(0.01, 4), cell(0.001, 6)], [0.001, 0.01, 0.1]))).toBe(0.01);
    expect(key(pickRates([cell(0.1, 4), cell(0.01, 4)], [0.01, 0.1]))).toBe(0.01);
    expect(key(pickRates([cell(0.1, 1, 'diverged'), cell(0.01, 4)], [0.01, 0.1]))).toBe(0.01);
    expect(
      key(pickRates([cell(0.1, 1, 'x'), cell(0.01, 4, 'y'), cell(0.03, 4, 'z')], [0.01, 0.03, 0.1])),
    ).toBe(0.03);
  });
});

describe('aggregateCells: intervals on a known case', () => {
  const base = runCell(
    windows.slice(0, 8),
    inferShape(windows),
    2,
    {
      normalizer: 'batch',
      batch: { kind: 'fixed', size: 4 },
      seed: 1,
      arrival: 'iid',
    },
    { hidden: 4 },
  );
  /** A cell of 100 events with the given number of errors and loss sum. */
  const cell = (normalizer: string, seed: number, wrong: number, lossSum: number): CellResult => ({
    ...base,
    normalizer,
    seed,
    events: 100,
    batches: 25,
    correct: 100 - wrong,
    lossSum,
    perClass: [
      [30, 40],
      [70 - wrong, 60],
    ],
  });
  it('t half-widths over seeds and paired differences against BatchNorm', () => {
    const cells = [
      cell('batch', 1, 10, 50),
      cell('batch', 2, 20, 60),
      cell('batch', 3, 30, 70),
      cell('layer', 1, 5, 40),
      cell('layer', 2, 10, 40),
      cell('layer', 3, 15, 40),
    ];
    const rows = aggregateCells(
      cells,
      ['batch', 'layer'],
      [{ kind: 'fixed', size: 4 }],
      ['iid'],
      8,
      14,
      () => 0.01,
    );
    const bn = ok(rows[0]);
    const ln = ok(rows[1]);
    // errors 0.1, 0.2, 0.3: mean 0.2, sd 0.1, t(0.975, 2) = 4.302652729911275
    expect(bn.error).toBeCloseTo(0.2, 12);
    expect(bn.errorStd).toBeCloseTo(0.1, 12);
    expect(bn.errorCi95).toBeCloseTo((4.302652729911275 * 0.1) / Math.sqrt(3), 9);
    // losses 0.5, 0.6, 0.7
    expect(bn.lossCi95).toBeCloseTo((4.302652729911275 * 0.1) / Math.sqrt(3), 9);
    // paired error differences −0.05, −0.10, −0.15: mean −0.1, sd 0.05
    expect(ln.errorDiffVsBatch).toBeCloseTo(-0.1, 12);
    expect(ln.errorDiffVsBatchCi95).toBeCloseTo((4.302652729911275 * 0.05) / Math.sqrt(3), 9);
    // loss differences −0.1, −0.2, −0.3
    expect(ln.lossDiffVsBatch).toBeCloseTo(-0.2, 12);
    expect(ln.lossDiffVsBatchCi95).toBeCloseTo((4.302652729911275 * 0.1) / Math.sqrt(3), 9);
    // majority class: 60 of 100
    expect(bn.baselineError).toBeCloseTo(0.4, 12);
    expect(bn.baselineLoss).toBeCloseTo(-(0.4 * Math.log(0.4) + 0.6 * Math.log(0.6)), 12);
    expect(bn.errorDiffVsBatch).toBeUndefined();
    expect(bn.episodeRecall).toBeUndefined();
  });

  it('episode recall and false alarms per 1,000 events over seeds', () => {
    const withEpisodes = (seed: number, detected: number, falseAlarms: number): CellResult => ({
      ...cell('layer', seed, 10, 50),
      episodes: { events: 100, episodes: 4, detected, falseAlarms },
    });
    const [row] = aggregateCells(
      [withEpisodes(1, 1, 0), withEpisodes(2, 2, 1), withEpisodes(3, 3, 2)],
      ['layer'],
      [{ kind: 'fixed', size: 4 }],
      ['iid'],
      8,
      14,
      () => 0.01,
    );
    const r = ok(row);
    // recall 0.25, 0.5, 0.75: mean 0.5, sd 0.25; false alarms 0, 10, 20 per 1,000: mean 10, sd 10
    expect(r.episodes).toBe(4);
    expect(r.episodeRecall).toBeCloseTo(0.5, 12);
    expect(r.episodeRecallCi95).toBeCloseTo((4.302652729911275 * 0.25) / Math.sqrt(3), 9);
    expect(r.falseAlarmsPer1000).toBeCloseTo(10, 12);
    expect(r.falseAlarmsPer1000Ci95).toBeCloseTo((4.302652729911275 * 10) / Math.sqrt(3), 6);
  });
});

describe('data draws: seeds vary the data', () => {
  it('a seeded dataset is drawn anew per seed; a fixed stream only reorders under reordering arrivals', () => {
    const synth = new DrawCache(smallSynthetic);
    const a = synth.base(1).map((e) => e.x);
    const b = synth.base(2).map((e) => e.x);
    expect(a).not.toEqual(b);
    expect(synth.base(1).map((e) => e.x)).toEqual(a);
    const sensor = new DrawCache({ dataset: 'sensor', options: { limit: 200 } });
    const recorded1 = sensor.arranged('recorded', 1).map((e) => e.id);
    expect(sensor.arranged('recorded', 2).map((e) => e.id)).toEqual(recorded1);
    const iid1 = sensor.arranged('iid', 1).map((e) => e.id);
    const iid2 = sensor.arranged('iid', 2).map((e) => e.id);
    expect(iid1).not.toEqual(iid2);
    expect([...iid1].sort()).toEqual([...recorded1].sort());
  });
});
