/**
 * Bench suite `compare`: how fast the normalization comparison runs.
 *
 * - `cell/<normalizer>/b<size>`: one prequential cell (predict, score, train-eval gap where it applies, learn)
 *   over the whole sensor stream (9427 windows [2 x 16], WindowNet hidden 16), in this thread; median of
 *   BENCH_COMPARE_REPEATS runs; per-unit figures are per event.
 * - `grid/sensor/default`: the full default grid (7 normalizers x 8 batch sizes x BENCH_COMPARE_SEEDS seeds,
 *   default 3) with one worker thread per core, as `streamnorm compare --dataset sensor` runs it; one run,
 *   wall clock. The design asks for minutes.
 */
import { availableParallelism } from 'node:os';
import { header, type Case, type SuiteResult } from '../lib.js';
import { loadDataset } from '../../src/datasets/loadDataset.js';
import { parseBatchSizes, runCell } from '../../src/experiment/cell.js';
import { defaultBatchSizes, defaultNormalizers, runCompare } from '../../src/experiment/compare.js';
import { inferClasses, inferShape } from '../../src/experiment/source.js';

const REPEATS = Number(process.env.BENCH_COMPARE_REPEATS ?? 3);
const SEEDS = Number(process.env.BENCH_COMPARE_SEEDS ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(): Promise<SuiteResult> {
  const events = loadDataset('sensor');
  const shape = inferShape(events);
  const classes = inferClasses(events);
  const cases: Case[] = [];
  for (const normalizer of defaultNormalizers) {
    for (const size of [1, 16]) {
      const times: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const t0 = performance.now();
        const cell = runCell(events, shape, classes, {
          normalizer,
          batch: { kind: 'fixed', size },
          seed: r + 1,
        });
        times.push(performance.now() - t0);
        if (cell.failed !== undefined) throw new Error(`${normalizer}@${size} failed: ${cell.failed}`);
      }
      const ns = median(times) * 1e6;
      cases.push({
        name: `cell/${normalizer}/b${size}`,
        medianNs: ns,
        units: events.length,
        perUnitNs: ns / events.length,
        eventsPerSecond: events.length / (ns / 1e9),
      });
      console.log(`cell ${normalizer} batch ${size}: ${(events.length / (ns / 1e9)).toFixed(0)} events/s`);
    }
  }
  const jobs = availableParallelism();
  const t0 = performance.now();
  const grid = await runCompare({
    source: { dataset: 'sensor' },
    normalizers: defaultNormalizers,
    batchSizes: parseBatchSizes(defaultBatchSizes),
    seeds: SEEDS,
    jobs,
  });
  const gridMs = performance.now() - t0;
  const cells = grid.rows.length * SEEDS;
  cases.push({
    name: 'grid/sensor/default',
    medianNs: gridMs * 1e6,
    units: cells * events.length,
    perUnitNs: (gridMs * 1e6) / (cells * events.length),
    cells,
    jobs,
    seconds: gridMs / 1000,
  });
  console.log(`full default sensor grid: ${cells} cells, ${jobs} jobs, ${(gridMs / 1000).toFixed(1)} s`);
  const bn1 = cases.find((c) => c.name === 'cell/batch/b1') as Case;
  const ln1 = cases.find((c) => c.name === 'cell/layer/b1') as Case;
  const bn16 = cases.find((c) => c.name === 'cell/batch/b16') as Case;
  const ln16 = cases.find((c) => c.name === 'cell/layer/b16') as Case;
  return {
    ...header('compare'),
    cases,
    ratios: {
      'grid seconds': gridMs / 1000,
      'batch/layer time per event, batch 1': bn1.medianNs / ln1.medianNs,
      'batch/layer time per event, batch 16': bn16.medianNs / ln16.medianNs,
    },
    notes: [
      'cell times include the train-eval gap measurement for batch, batchrenorm and online (one extra training-mode forward per batch, with a state snapshot)',
      `machine: ${availableParallelism()} cores; other processes on the machine inflate wall-clock figures`,
      `cells: median of ${REPEATS} run(s) (BENCH_COMPARE_REPEATS); grid: ${SEEDS} seeds (BENCH_COMPARE_SEEDS), the default arrival (iid) and step (the largest batch), the sensor stream's episode scores included`,
    ],
  };
}
