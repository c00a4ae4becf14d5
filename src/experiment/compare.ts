/**
 * The normalization comparison: every (normalizer, arrival batch size, seed) cell through the same
 * prequential loop, spread over worker threads, aggregated over seeds into result rows (`CompareRow`, types.ts).
 *
 * @example
 * const result = await runCompare({
 *   source: { dataset: 'sensor' },
 *   normalizers: ['batch', 'layer', 'group:4', 'none'],
 *   batchSizes: parseBatchSizes('1,4,16,poisson:8'),
 *   seeds: 3,
 * });
 * writeResults('out', result);
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { balancedError, mean, sampleStd } from '../evaluation/index.js';
import { checkNormalizerSpec } from '../models/nets/normalizerFactory.js';
import { defaultNormalizerSpecs } from '../normalizers/descriptors.js';
import type { StreamEvent } from '../streams/event.js';
import {
  batchLabel,
  defaultCompareModel,
  isPerSampleSpec,
  runCell,
  type BatchSizeSpec,
  type CellResult,
  type CellTask,
  type CompareModelOptions,
} from './cell.js';
import { describeSource, inferClasses, inferShape, loadSourceEvents, type EventSource } from './source.js';
import type { CompareResult, CompareRow } from './types.js';

/** The normalizer descriptors' default specs (one per family), as of import; `defaultNormalizerSpecs()` is live. */
export const defaultNormalizers: string[] = defaultNormalizerSpecs();
export const defaultBatchSizes = '1,2,4,8,16,32,64,poisson:8';

export interface CompareOptions {
  source: EventSource;
  normalizers: string[];
  batchSizes: BatchSizeSpec[];
  /** Seeds per cell: runs use seeds 1..seeds (model initialization and Poisson sizes). */
  seeds: number;
  /** Worker threads (default: available cores; 1 runs in this thread). */
  jobs?: number;
  model?: CompareModelOptions;
  /** Called after each finished cell. */
  onCell?: (done: number, total: number, cell: CellResult) => void;
}

function singletonAction(cells: CellResult[], normalizer: string, perChannelValues: number): string {
  const singles = cells.reduce((a, c) => a + c.singletonBatches, 0);
  const skipped = cells.reduce((a, c) => a + c.singletonSkipped, 0);
  const running = cells.reduce((a, c) => a + c.singletonRunningStats, 0);
  if (singles === 0) return 'no batches of one';
  if (skipped + running === 0) {
    return perChannelValues > 1 && !isPerSampleSpec(normalizer)
      ? `not needed: a batch of one still has ${perChannelValues} values per channel`
      : 'not needed: per-sample statistics';
  }
  const parts = [];
  if (running > 0) parts.push(`trained with running statistics on ${running} batches`);
  if (skipped > 0) parts.push(`skipped the update on ${skipped} batches`);
  return `${parts.join(', ')} (over ${cells.length} seed(s))`;
}

/** Aggregates cells (one per seed) into result rows, in the order of `normalizers` × `batchSizes`. */
export function aggregateCells(
  cells: CellResult[],
  normalizers: string[],
  batchSizes: BatchSizeSpec[],
  valuesPerChannel: number,
): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const normalizer of normalizers) {
    for (const b of batchSizes) {
      const label = batchLabel(b);
      const mine = cells
        .filter((c) => c.normalizer === normalizer && c.batchSize === label)
        .sort((a, z) => a.seed - z.seed);
      const failed = mine.find((c) => c.failed !== undefined)?.failed;
      const ok = mine.filter((c) => c.failed === undefined && c.events > 0);
      const errors = ok.map((c) => 1 - c.correct / c.events);
      const losses = ok.map((c) => c.lossSum / c.events);
      const balanced = ok.map((c) => balancedError(c.perClass));
      const first = mine[0];
      rows.push({
        normalizer,
        batchSize: label,
        meanBatchSize: ok.length === 0 ? 0 : mean(ok.map((c) => c.events / c.batches)),
        seeds: mine.length,
        events: first?.events ?? 0,
        loss: mean(losses),
        error: mean(errors),
        lossStd: sampleStd(losses),
        errorStd: sampleStd(errors),
        balancedError: mean(balanced),
        eventsPerSecond: mean(ok.map((c) => c.events / Math.max(c.seconds, 1e-9))),
        trainEvalGap: mean(ok.map((c) => (c.gapCount === 0 ? 0 : c.gapSum / c.gapCount))),
        trainEvalGapLate: mean(ok.map((c) => (c.gapLateCount === 0 ? 0 : c.gapLateSum / c.gapLateCount))),
        singleton: {
          policy: first?.singletonPolicy ?? defaultCompareModel.singletonPolicy,
          singletonBatches: ok.reduce((a, c) => a + c.singletonBatches, 0),
          triggered: ok.reduce((a, c) => a + c.singletonSkipped + c.singletonRunningStats, 0),
          action: singletonAction(ok, normalizer, valuesPerChannel),
        },
        rejectedUpdates: mine.reduce((a, c) => a + c.rejectedUpdates, 0),
        ...(failed === undefined ? {} : { failed }),
      });
    }
  }
  return rows;
}

/** Checks the grid up front so a typo fails before any work, naming the bad value. */
export function validateGrid(normalizers: string[], seeds: number, jobs?: number): void {
  if (normalizers.length === 0) throw new ConfigError('normalizers: none given');
  for (const n of normalizers) {
    try {
      checkNormalizerSpec(n);
    } catch (err) {
      throw new ConfigError(`normalizers: ${(err as Error).message}`, { cause: err });
    }
  }
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new ConfigError(`seeds: expected an integer >= 1, got ${String(seeds)}`);
  if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1))
    throw new ConfigError(`jobs: expected an integer >= 1, got ${String(jobs)}`);
}

interface WorkerRequest {
  task: CellTask;
}

/**
 * The worker entry. From dist it is worker.js; from sources (tsx, vitest) a small bootstrap registers tsx's
 * loader inside the worker first, since a worker does not inherit the parent's TypeScript loader.
 */
function makeWorker(workerData: unknown): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./worker.js', self), { workerData });
  // tsx's ESM API (the `import` condition of `tsx/esm/api`): register() installs its hooks in this thread.
  const pkgPath = createRequire(self).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  const entry = new URL('./worker.ts', self).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}

async function runInWorkers(
  opts: CompareOptions,
  tasks: CellTask[],
  jobs: number,
  onDone: (c: CellResult) => void,
): Promise<void> {
  let next = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: jobs }, async () => {
        const w = makeWorker({ source: opts.source, model: opts.model ?? {} });
        workers.push(w);
        await new Promise<void>((resolve, reject) => {
          const feed = (): void => {
            if (next >= tasks.length) {
              resolve();
              return;
            }
            const req: WorkerRequest = { task: tasks[next++] };
            w.postMessage(req);
          };
          w.on('message', (msg: { cell?: CellResult; error?: string }) => {
            if (msg.error !== undefined) {
              reject(new Error(msg.error));
              return;
            }
            if (msg.cell !== undefined) onDone(msg.cell);
            feed();
          });
          w.on('error', reject);
          w.on('exit', (code) => {
            if (code !== 0) reject(new Error(`compare worker exited with code ${code}`));
          });
          w.once('online', feed);
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Runs the whole grid and returns the aggregated result (writing files is {@link writeResults}'s job). */
export async function runCompare(opts: CompareOptions): Promise<CompareResult> {
  validateGrid(opts.normalizers, opts.seeds, opts.jobs);
  const started = performance.now();
  const events: StreamEvent[] = loadSourceEvents(opts.source);
  const shape = inferShape(events);
  const classes = inferClasses(events);
  const counts = new Array<number>(classes).fill(0);
  for (const e of events) counts[e.y as number]++;
  const tasks: CellTask[] = [];
  for (const normalizer of opts.normalizers)
    for (const batch of opts.batchSizes)
      for (let s = 1; s <= opts.seeds; s++) tasks.push({ normalizer, batch, seed: s });
  // Slowest cells first (batch size 1), so the last worker to finish is not stuck with the longest one.
  tasks.sort(
    (a, b) =>
      (a.batch.kind === 'fixed' ? a.batch.size : a.batch.mean) -
      (b.batch.kind === 'fixed' ? b.batch.size : b.batch.mean),
  );
  const jobs = Math.min(opts.jobs ?? availableParallelism(), tasks.length);
  const cells: CellResult[] = [];
  const onDone = (c: CellResult): void => {
    cells.push(c);
    opts.onCell?.(cells.length, tasks.length, c);
  };
  if (jobs <= 1) {
    for (const t of tasks) onDone(runCell(events, shape, classes, t, opts.model));
  } else {
    await runInWorkers(opts, tasks, jobs, onDone);
  }
  const valuesPerChannel =
    shape.length === 2 ? shape[1] - (opts.model?.kernel ?? defaultCompareModel.kernel) + 1 : 1;
  const rows = aggregateCells(cells, opts.normalizers, opts.batchSizes, valuesPerChannel);
  return {
    meta: {
      source: describeSource(opts.source),
      events: events.length,
      shape,
      classes,
      baselineError: 1 - Math.max(...counts) / events.length,
      model: { net: shape.length === 2 ? 'WindowNet' : 'Mlp', ...defaultCompareModel, ...opts.model },
      normalizers: opts.normalizers,
      batchSizes: opts.batchSizes.map((b) => String(batchLabel(b))),
      seeds: opts.seeds,
      jobs,
      wallSeconds: (performance.now() - started) / 1000,
      date: new Date().toISOString(),
      node: process.version,
    },
    rows,
  };
}
