/**
 * The normalization comparison: every (normalizer, arrival batch size, arrival order, seed) cell through the
 * same prequential loop, spread over worker threads, aggregated over seeds into result rows (`CompareRow`,
 * types.ts) with 95 % intervals and paired differences against BatchNorm.
 *
 * @example
 * const result = await runCompare({
 *   source: { dataset: 'synthetic' },
 *   normalizers: ['batch', 'layer', 'group:4', 'none'],
 *   batchSizes: parseBatchSizes('1,4,16'),
 *   arrivals: ['iid', 'bursty:8'],
 *   seeds: 10,
 * });
 * writeResults('out', result);
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../core/moduleWorker.js';
import { ConfigError } from '../errors.js';
import { balancedError, mean, sampleStd, tHalfWidth } from '../evaluation/index.js';
import { checkNormalizerSpec } from '../models/nets/normalizerFactory.js';
import { defaultNormalizerSpecs } from '../normalizers/descriptors.js';
import { arrange, formatArrival, parseArrival } from './arrival.js';
import {
  batchLabel,
  compareFamily,
  defaultCompareModel,
  isPerSampleSpec,
  makeCompareModel,
  runCell,
  type BatchSizeSpec,
  type CellResult,
  type CellTask,
  type CompareModelOptions,
  type StepEvents,
} from './cell.js';
import { DrawCache, drawsPerSeed } from './draw.js';
import { anomalyDatasets } from './episodeTally.js';
import { describeSource, inferClasses, inferShape, type EventSource } from './source.js';
import type { CompareResult, CompareRow, CompareRowOk } from './types.js';

/** The normalizer descriptors' default specs (one per family), as of import; `defaultNormalizerSpecs()` is live. */
export const defaultNormalizers: string[] = defaultNormalizerSpecs();
export const defaultBatchSizes = '1,2,4,8,16,32,64,poisson:8';
/** The learning rates `--lr auto` tries, per (normalizer, batch size, arrival). */
export const defaultLrGrid: readonly number[] = [0.003, 0.01, 0.03, 0.1];
/** Seed of the tuning runs' model and data draw: far from the scored seeds 1..n, so its draw is never scored. */
export const TUNING_SEED = 1_000_003;

export interface CompareOptions {
  source: EventSource;
  normalizers: string[];
  batchSizes: BatchSizeSpec[];
  /** Arrival orders (`iid`, `recorded`, `bursty:R`, `keyed:R`); default `['iid']`. */
  arrivals?: string[];
  /** Seeds per cell: runs use seeds 1..seeds (model initialization, data draw, arrival order, Poisson sizes). */
  seeds: number;
  /** Events per optimizer step, or 'arrival'; default the largest batch size of the grid. */
  stepEvents?: StepEvents;
  /** Fixed learning rate, or 'auto' (best of `lrGrid` on a tuning draw); default the model's (0.01). */
  lr?: number | 'auto';
  lrGrid?: readonly number[];
  /** Leading events left out of the `AfterWarmup` scores; default a fifth of the stream, at most 1,000. */
  warmup?: number;
  /**
   * Score anomaly episodes (per-episode recall, false alarms per 1,000 events) of a binary stream; default
   * on for the bundled anomaly streams (`anomalyDatasets`: sensor).
   */
  episodes?: boolean;
  /** Worker threads (default: available cores; 1 runs in this thread). */
  jobs?: number;
  model?: CompareModelOptions;
  /** Called once the grid passed its checks, before the first cell, with the number of cells to run. */
  onStart?: (cells: number) => void;
  /** Called after each finished cell (tuning cells included). */
  onCell?: (done: number, total: number, cell: CellResult) => void;
}

/** The default `stepEvents`: the largest arrival batch of the grid (a Poisson mean rounded up). */
export function defaultStepEvents(batchSizes: readonly BatchSizeSpec[]): number {
  return Math.max(1, ...batchSizes.map((b) => (b.kind === 'fixed' ? b.size : Math.ceil(b.mean))));
}

/** The default warm-up: a fifth of the stream, at most 1,000 events. */
export function defaultWarmup(events: number): number {
  return Math.min(1000, Math.floor(events / 5));
}

/** Parses `--step-events`: a positive integer or 'arrival'. */
export function parseStepEvents(text: string): StepEvents {
  const t = text.trim();
  if (t === 'arrival') return 'arrival';
  if (/^\d+$/.test(t) && Number(t) >= 1) return Number(t);
  throw new ConfigError(`--step-events: expected a positive integer or 'arrival', got '${text}'`);
}

function singletonAction(cells: CellResult[], normalizer: string, perChannelValues: number): string {
  const singles = cells.reduce((a, c) => a + c.singletonBatches, 0);
  const skipped = cells.reduce((a, c) => a + c.singletonSkipped, 0);
  const running = cells.reduce((a, c) => a + c.singletonRunningStats, 0);
  if (singles === 0) return 'no batches of one';
  if (skipped + running === 0) {
    return perChannelValues > 1 && !isPerSampleSpec(normalizer)
      ? 'not needed: a window of one event still gives each channel several values'
      : 'not needed: per-sample statistics';
  }
  const parts = [];
  if (running > 0) parts.push(`trained with running statistics on ${running} batches`);
  if (skipped > 0) parts.push(`skipped the update on ${skipped} batches`);
  return `${parts.join(', ')} (over ${cells.length} seed(s))`;
}

const cellError = (c: CellResult): number => 1 - c.correct / c.events;
const cellLoss = (c: CellResult): number => c.lossSum / c.events;
const ci = (xs: number[]): number | null => (xs.length < 2 ? null : tHalfWidth(xs));

function majorityError(c: CellResult): number {
  const totals = c.perClass.map(([, t]) => t);
  return 1 - Math.max(...totals) / c.events;
}

function priorEntropy(c: CellResult): number {
  let h = 0;
  for (const [, t] of c.perClass) if (t > 0) h -= (t / c.events) * Math.log(t / c.events);
  return h;
}

/** The per-episode scores over seeds, when the cells scored episodes (anomaly streams). */
function episodeFields(mine: CellResult[]): Partial<CompareRowOk> {
  const counts = mine.map((c) => c.episodes);
  if (counts.some((e) => e === undefined)) return {};
  const eps = counts as NonNullable<CellResult['episodes']>[];
  const recall = eps.map((e) => (e.episodes === 0 ? NaN : e.detected / e.episodes));
  const alarms = eps.map((e) => (1000 * e.falseAlarms) / e.events);
  return {
    episodes: mean(eps.map((e) => e.episodes)),
    episodeRecall: mean(recall),
    episodeRecallCi95: ci(recall),
    falseAlarmsPer1000: mean(alarms),
    falseAlarmsPer1000Ci95: ci(alarms),
  };
}

/**
 * Aggregates scored cells (one per seed) into result rows, in the order arrivals × normalizers × batch sizes.
 * A row with any failed seed is a failed row (its reason, no numbers). Non-BatchNorm rows get the paired
 * differences against BatchNorm's cells of the same seeds when 'batch' ran there.
 */
export function aggregateCells(
  cells: CellResult[],
  normalizers: string[],
  batchSizes: BatchSizeSpec[],
  arrivals: string[],
  stepEvents: StepEvents,
  valuesPerChannel: number,
  lrOf: (normalizer: string, batch: number | string, arrival: string) => number,
): CompareRow[] {
  const rows: CompareRow[] = [];
  const scored = cells.filter((c) => !c.tuning);
  const cellsOf = (normalizer: string, label: number | string, arrival: string): CellResult[] =>
    scored
      .filter((c) => c.normalizer === normalizer && c.batchSize === label && c.arrival === arrival)
      .sort((a, z) => a.seed - z.seed);
  for (const arrival of arrivals) {
    for (const normalizer of normalizers) {
      for (const b of batchSizes) {
        const label = batchLabel(b);
        const mine = cellsOf(normalizer, label, arrival);
        const key = {
          normalizer,
          batchSize: label,
          arrival,
          stepEvents,
          lr: lrOf(normalizer, label, arrival),
          seeds: mine.length,
        };
        const bad = mine.find((c) => c.failed !== undefined || c.events === 0);
        if (bad !== undefined || mine.length === 0) {
          rows.push({
            ...key,
            status: 'failed',
            reason: bad === undefined ? 'no runs' : `seed ${bad.seed}: ${bad.failed ?? 'no events scored'}`,
          });
          continue;
        }
        const errors = mine.map(cellError);
        const losses = mine.map(cellLoss);
        const row: CompareRowOk = {
          ...key,
          status: 'ok',
          meanBatchSize: mean(mine.map((c) => c.events / c.batches)),
          events: mine[0].events,
          steps: mean(mine.map((c) => c.steps)),
          loss: mean(losses),
          error: mean(errors),
          lossStd: sampleStd(losses),
          errorStd: sampleStd(errors),
          errorCi95: ci(errors),
          lossCi95: ci(losses),
          errorAfterWarmup: mean(
            mine.map((c) =>
              c.eventsAfterWarmup === 0 ? NaN : 1 - c.correctAfterWarmup / c.eventsAfterWarmup,
            ),
          ),
          lossAfterWarmup: mean(
            mine.map((c) => (c.eventsAfterWarmup === 0 ? NaN : c.lossSumAfterWarmup / c.eventsAfterWarmup)),
          ),
          balancedError: mean(mine.map((c) => balancedError(c.perClass))),
          baselineError: mean(mine.map(majorityError)),
          baselineLoss: mean(mine.map(priorEntropy)),
          ...(mine[0].auprc === undefined ? {} : { auprc: mean(mine.map((c) => c.auprc as number)) }),
          ...episodeFields(mine),
          eventsPerSecond: mean(mine.map((c) => c.events / Math.max(c.seconds, 1e-9))),
          trainEvalGap: mean(mine.map((c) => (c.gapCount === 0 ? 0 : c.gapSum / c.gapCount))),
          trainEvalKl: mean(mine.map((c) => (c.gapCount === 0 ? 0 : c.klSum / c.gapCount))),
          trainEvalGapLate: mean(mine.map((c) => (c.gapLateCount === 0 ? 0 : c.gapLateSum / c.gapLateCount))),
          singleton: {
            policy: mine[0].singletonPolicy,
            singletonBatches: mine.reduce((a, c) => a + c.singletonBatches, 0),
            triggered: mine.reduce((a, c) => a + c.singletonSkipped + c.singletonRunningStats, 0),
            action: singletonAction(mine, normalizer, valuesPerChannel),
          },
          rejectedUpdates: mine.reduce((a, c) => a + c.rejectedUpdates, 0),
        };
        if (normalizer !== 'batch' && normalizers.includes('batch')) {
          const bn = new Map(cellsOf('batch', label, arrival).map((c) => [c.seed, c]));
          const paired = mine.filter((c) => {
            const o = bn.get(c.seed);
            return o !== undefined && o.failed === undefined && o.events === c.events;
          });
          if (paired.length === mine.length && paired.length > 0) {
            const dErr = paired.map((c) => cellError(c) - cellError(bn.get(c.seed) as CellResult));
            const dLoss = paired.map((c) => cellLoss(c) - cellLoss(bn.get(c.seed) as CellResult));
            row.errorDiffVsBatch = mean(dErr);
            row.errorDiffVsBatchCi95 = ci(dErr);
            row.lossDiffVsBatch = mean(dLoss);
            row.lossDiffVsBatchCi95 = ci(dLoss);
          }
        }
        rows.push(row);
      }
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

/**
 * Checks every spec against the model and the stream before any cell runs: each normalizer is built into
 * the compared model for the stream's shape (so `group:3` over 16 channels fails here, naming it), each
 * arrival order is applied to the stream (so `keyed:R` on events without keys fails here), and the step,
 * warm-up and learning-rate settings are in range. Throws a ConfigError (exit 2).
 */
export function validateAgainstModel(
  events: Parameters<typeof arrange>[0],
  shape: number[],
  classes: number,
  opts: Pick<
    CompareOptions,
    'normalizers' | 'arrivals' | 'stepEvents' | 'lr' | 'lrGrid' | 'warmup' | 'model'
  >,
): void {
  for (const normalizer of opts.normalizers) {
    try {
      makeCompareModel(normalizer, shape, classes, 1, opts.model ?? {});
    } catch (err) {
      throw new ConfigError(
        `--normalizers: '${normalizer}' does not fit the ${compareFamily(shape, opts.model)} on [${shape.join(', ')}]: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  for (const a of opts.arrivals ?? ['iid']) {
    try {
      arrange(events, parseArrival(a), 1);
    } catch (err) {
      throw new ConfigError(`--arrival: '${a}': ${(err as Error).message}`, { cause: err });
    }
  }
  const se = opts.stepEvents;
  if (se !== undefined && se !== 'arrival' && !(Number.isSafeInteger(se) && se >= 1))
    throw new ConfigError(`--step-events: expected a positive integer or 'arrival', got ${String(se)}`);
  const w = opts.warmup;
  if (w !== undefined && !(Number.isSafeInteger(w) && w >= 0 && w < events.length))
    throw new ConfigError(`--warmup: expected an integer in [0, ${events.length}), got ${String(w)}`);
  const rates = opts.lr === 'auto' ? (opts.lrGrid ?? defaultLrGrid) : opts.lr === undefined ? [] : [opts.lr];
  if (opts.lr === 'auto' && rates.length === 0) throw new ConfigError('--lr auto: the grid is empty');
  for (const r of rates)
    if (!(Number.isFinite(r) && r > 0)) throw new ConfigError(`--lr: expected a rate > 0, got ${String(r)}`);
}

interface WorkerRequest {
  task: CellTask;
}

interface WorkerSetup {
  source: EventSource;
  model: CompareModelOptions;
  shape: number[];
  classes: number;
  warmup: number;
  episodes: boolean;
}

/** A cell worker (worker.ts / worker.js beside this module). */
function makeWorker(workerData: WorkerSetup): Worker {
  return startModuleWorker(siblingModule(import.meta.url, 'worker'), workerData);
}

async function runInWorkers(
  setup: WorkerSetup,
  tasks: CellTask[],
  jobs: number,
  onDone: (c: CellResult) => void,
): Promise<void> {
  let next = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: jobs }, async () => {
        const w = makeWorker(setup);
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

/** Tasks grouped by seed (a worker keeps one data draw), slowest (smallest batches) first within a seed. */
function orderTasks(tasks: CellTask[]): CellTask[] {
  const size = (t: CellTask): number => (t.batch.kind === 'fixed' ? t.batch.size : t.batch.mean);
  return tasks.sort((a, b) => a.seed - b.seed || size(a) - size(b));
}

async function runTasks(
  setup: WorkerSetup,
  tasks: CellTask[],
  jobs: number,
  onDone: (c: CellResult) => void,
): Promise<void> {
  if (jobs <= 1) {
    const cache = new DrawCache(setup.source);
    for (const t of tasks)
      onDone(
        runCell(
          cache.arranged(t.arrival ?? 'recorded', t.seed),
          setup.shape,
          setup.classes,
          t,
          setup.model,
          setup.warmup,
          setup.episodes ? cache.episodes(t.seed) : undefined,
        ),
      );
  } else {
    await runInWorkers(setup, tasks, jobs, onDone);
  }
}

const rowKey = (normalizer: string, batch: number | string, arrival: string): string =>
  `${normalizer}\u0000${batch}\u0000${arrival}`;

/**
 * Picks each (normalizer, batch size, arrival) cell's rate: the lowest prequential log loss over a tuning
 * run (seed {@link TUNING_SEED}, its own data draw) per rate of the grid; ties go to the smaller rate. A cell
 * whose every tuning run failed keeps the grid's middle rate (its scored runs then report why).
 */
export function pickRates(tuning: CellResult[], grid: readonly number[]): Map<string, number> {
  const best = new Map<string, { lr: number; loss: number }>();
  for (const c of tuning) {
    if (c.failed !== undefined || c.events === 0) continue;
    const k = rowKey(c.normalizer, c.batchSize, c.arrival);
    const loss = c.lossSum / c.events;
    const cur = best.get(k);
    if (cur === undefined || loss < cur.loss || (loss === cur.loss && c.lr < cur.lr))
      best.set(k, { lr: c.lr, loss });
  }
  const mid = [...grid].sort((a, b) => a - b)[Math.floor((grid.length - 1) / 2)];
  const out = new Map<string, number>();
  for (const c of tuning) {
    const k = rowKey(c.normalizer, c.batchSize, c.arrival);
    out.set(k, best.get(k)?.lr ?? mid);
  }
  return out;
}

/** Runs the whole grid and returns the aggregated result (writing files is {@link writeResults}'s job). */
export async function runCompare(opts: CompareOptions): Promise<CompareResult> {
  validateGrid(opts.normalizers, opts.seeds, opts.jobs);
  const started = performance.now();
  const arrivals = (opts.arrivals ?? ['iid']).map((a) => formatArrival(parseArrival(a)));
  const cache = new DrawCache(opts.source);
  const first = cache.base(1);
  const shape = inferShape(first);
  const classes = inferClasses(first);
  const model = opts.model ?? {};
  validateAgainstModel(first, shape, classes, { ...opts, arrivals });
  const stepEvents = opts.stepEvents ?? defaultStepEvents(opts.batchSizes);
  const warmup = opts.warmup ?? defaultWarmup(first.length);
  const fixedLr = opts.lr === 'auto' ? undefined : (opts.lr ?? model.lr ?? defaultCompareModel.lr);
  const grid = opts.lrGrid ?? defaultLrGrid;
  const episodes =
    classes === 2 &&
    (opts.episodes ?? ('dataset' in opts.source && anomalyDatasets.includes(opts.source.dataset)));
  const setup: WorkerSetup = { source: opts.source, model, shape, classes, warmup, episodes };
  const combos: { normalizer: string; batch: BatchSizeSpec; arrival: string }[] = [];
  for (const arrival of arrivals)
    for (const normalizer of opts.normalizers)
      for (const batch of opts.batchSizes) combos.push({ normalizer, batch, arrival });
  const tuningTasks: CellTask[] =
    fixedLr === undefined
      ? combos.flatMap((c) => grid.map((lr) => ({ ...c, seed: TUNING_SEED, stepEvents, lr, tuning: true })))
      : [];
  const total = tuningTasks.length + combos.length * opts.seeds;
  const jobs = Math.min(opts.jobs ?? availableParallelism(), Math.max(1, combos.length * opts.seeds));
  const cells: CellResult[] = [];
  const onDone = (c: CellResult): void => {
    cells.push(c);
    opts.onCell?.(cells.length, total, c);
  };
  opts.onStart?.(total);
  let rates = new Map<string, number>();
  if (tuningTasks.length > 0) {
    await runTasks(setup, orderTasks(tuningTasks), jobs, onDone);
    rates = pickRates(cells, grid);
  }
  const lrOf = (normalizer: string, batch: number | string, arrival: string): number =>
    fixedLr ?? (rates.get(rowKey(normalizer, batch, arrival)) as number);
  const tasks: CellTask[] = [];
  for (const c of combos)
    for (let s = 1; s <= opts.seeds; s++)
      tasks.push({ ...c, seed: s, stepEvents, lr: lrOf(c.normalizer, batchLabel(c.batch), c.arrival) });
  await runTasks(setup, orderTasks(tasks), jobs, onDone);
  // Windows give each channel several values (L − K + 1) even in a batch of one; vectors one.
  const valuesPerChannel = shape.length === 2 ? 2 : 1;
  const rows = aggregateCells(
    cells,
    opts.normalizers,
    opts.batchSizes,
    arrivals,
    stepEvents,
    valuesPerChannel,
    lrOf,
  );
  const counts = new Array<number>(classes).fill(0);
  for (const e of first) counts[e.y as number]++;
  return {
    meta: {
      source: describeSource(opts.source),
      events: first.length,
      shape,
      classes,
      baselineError: 1 - Math.max(...counts) / first.length,
      model: { family: compareFamily(shape, model), ...defaultCompareModel, ...model },
      normalizers: opts.normalizers,
      batchSizes: opts.batchSizes.map((b) => String(batchLabel(b))),
      arrivals,
      stepEvents,
      warmup,
      lr: fixedLr ?? 'auto',
      ...(fixedLr === undefined
        ? {
            lrGrid: [...grid],
            lrTuning:
              drawsPerSeed(opts.source) || !arrivals.includes('recorded')
                ? `one run per rate on its own data draw (seed ${TUNING_SEED}), never scored`
                : `one run per rate (seed ${TUNING_SEED}); under 'recorded' a fixed stream has no other draw, so its tuning run sees the scored events in the same order`,
          }
        : {}),
      draws: drawsPerSeed(opts.source)
        ? 'each seed draws the dataset anew (generation or shuffle) and seeds its arrival order and model'
        : 'the same events every seed: reordering arrivals (iid, bursty, keyed) are seeded per seed, recorded keeps the file order (then only the model initialization varies)',
      seeds: opts.seeds,
      jobs,
      wallSeconds: (performance.now() - started) / 1000,
      date: new Date().toISOString(),
      node: process.version,
    },
    rows,
  };
}
