/**
 * One cell of the normalization comparison: one normalizer, one arrival batch size policy, one seed, run
 * through the prequential loop (predict the arrival batch in inference mode, score it, then learn it in
 * one step). The same loop, data and model for every cell; only the normalizer and the batching differ.
 */
import { ConfigError } from '../errors.js';
import type { WindowNetOptions } from '../models/nets/windowNet.js';
import { modelFamily } from '../models/modelFamilies.js';
import {
  argmax,
  countPrediction,
  emptyClassCounts,
  logLossOne,
  totalVariation,
} from '../evaluation/index.js';
import { isNormalizerSpec, normalizerTraits } from '../normalizers/descriptors.js';
import type { Classifier, Features } from '../models/types.js';
import { poissonSizes } from '../streams/rebatch.js';
import type { StreamEvent } from '../streams/event.js';

/** A fixed arrival batch size, or random sizes 1 + Poisson(mean − 1) (the live `rebatch` policy). */
export type BatchSizeSpec = { kind: 'fixed'; size: number } | { kind: 'poisson'; mean: number };

/** Parses '1,2,4,poisson:8' (the --batch-sizes flag). */
export function parseBatchSizes(text: string, field = 'batch-sizes'): BatchSizeSpec[] {
  const out: BatchSizeSpec[] = [];
  for (const raw of text.split(',').map((s) => s.trim())) {
    if (raw === '') continue;
    const p = /^poisson:(\d+(?:\.\d+)?)$/.exec(raw);
    if (p !== null) {
      const mean = Number(p[1]);
      if (!(mean >= 1)) throw new ConfigError(`${field}: poisson mean must be >= 1, got '${raw}'`);
      out.push({ kind: 'poisson', mean });
    } else if (/^\d+$/.test(raw) && Number(raw) >= 1) {
      out.push({ kind: 'fixed', size: Number(raw) });
    } else {
      throw new ConfigError(`${field}: expected positive integers or poisson:MEAN, got '${raw}'`);
    }
  }
  if (out.length === 0) throw new ConfigError(`${field}: no batch sizes given`);
  return out;
}

export function batchLabel(b: BatchSizeSpec): number | string {
  return b.kind === 'fixed' ? b.size : `poisson:${b.mean}`;
}

/** The normalizers whose output for one sample never depends on the rest of the batch. */
export function isPerSampleSpec(normalizer: string): boolean {
  return isNormalizerSpec(normalizer) && normalizerTraits(normalizer).perSample;
}

/** Options of the compared models, shared by every cell (the normalizer and seed are set per cell). */
export interface CompareModelOptions {
  hidden?: number;
  kernel?: number;
  dropout?: number;
  optimizer?: WindowNetOptions['optimizer'];
  weightDecay?: number;
  singletonPolicy?: 'error' | 'running-stats' | 'skip';
}

export const defaultCompareModel: Required<Omit<CompareModelOptions, 'optimizer'>> & {
  optimizer: NonNullable<WindowNetOptions['optimizer']>;
} = {
  hidden: 16,
  kernel: 3,
  dropout: 0,
  optimizer: { type: 'adam', lr: 0.01 },
  weightDecay: 0,
  singletonPolicy: 'running-stats',
};

export interface CellTask {
  normalizer: string;
  batch: BatchSizeSpec;
  seed: number;
}

/** Raw sums of one cell, aggregated over seeds by {@link aggregateCells}. */
export interface CellResult {
  normalizer: string;
  batchSize: number | string;
  seed: number;
  events: number;
  batches: number;
  lossSum: number;
  correct: number;
  /** Per class: [correct, total]. */
  perClass: [number, number][];
  /** Seconds spent in predict + learn (the gap measurement excluded). */
  seconds: number;
  gapSum: number;
  gapCount: number;
  gapLateSum: number;
  gapLateCount: number;
  singletonBatches: number;
  singletonSkipped: number;
  singletonRunningStats: number;
  singletonPolicy: string;
  rejectedUpdates: number;
  failed?: string;
}

/** Builds the model a cell compares: a WindowNet for `[C, L]` windows, an Mlp with one hidden layer for dense vectors `[d]`. */
export function makeCompareModel(
  normalizer: string,
  shape: number[],
  classes: number,
  seed: number,
  o: CompareModelOptions = {},
): Classifier {
  const m = { ...defaultCompareModel, ...o };
  const common = {
    normalizer,
    dropout: m.dropout,
    classes,
    optimizer: m.optimizer,
    weightDecay: m.weightDecay,
    singletonPolicy: m.singletonPolicy,
    seed,
  };
  if (shape.length === 2) {
    return modelFamily('windownet').create(
      { ...common, hidden: m.hidden, kernel: m.kernel },
      { kind: 'window', channels: shape[0], length: shape[1] },
    ) as Classifier;
  }
  return modelFamily('mlp').create(
    { ...common, hidden: [m.hidden] },
    { kind: 'vector', dim: shape[0] },
  ) as Classifier;
}

type TrainingPredictor = Classifier & {
  predictProbaMany(X: Features[], opts?: { training?: boolean }): number[][];
};

/**
 * Runs one cell. Never throws for a model failure: the cell comes back with `failed` set, so one broken
 * combination does not take the grid down.
 */
export function runCell(
  events: readonly StreamEvent[],
  shape: number[],
  classes: number,
  task: CellTask,
  modelOptions: CompareModelOptions = {},
): CellResult {
  const res: CellResult = {
    normalizer: task.normalizer,
    batchSize: batchLabel(task.batch),
    seed: task.seed,
    events: 0,
    batches: 0,
    lossSum: 0,
    correct: 0,
    perClass: emptyClassCounts(classes),
    seconds: 0,
    gapSum: 0,
    gapCount: 0,
    gapLateSum: 0,
    gapLateCount: 0,
    singletonBatches: 0,
    singletonSkipped: 0,
    singletonRunningStats: 0,
    singletonPolicy: modelOptions.singletonPolicy ?? defaultCompareModel.singletonPolicy,
    rejectedUpdates: 0,
  };
  let model: TrainingPredictor;
  try {
    model = makeCompareModel(task.normalizer, shape, classes, task.seed, modelOptions) as TrainingPredictor;
  } catch (err) {
    res.failed = (err as Error).message;
    return res;
  }
  const measureGap = !isPerSampleSpec(task.normalizer);
  const nextSize =
    task.batch.kind === 'fixed'
      ? (
          (s: number) => () =>
            s
        )(task.batch.size)
      : poissonSizes(task.batch.mean, 1000 + task.seed);
  const n = events.length;
  const lateFrom = Math.floor((3 * n) / 4);
  const X: Features[] = [];
  const Y: number[] = [];
  try {
    for (let start = 0; start < n;) {
      const size = Math.min(nextSize(), n - start);
      X.length = 0;
      Y.length = 0;
      for (let i = start; i < start + size; i++) {
        X.push(events[i].x);
        Y.push(events[i].y as number);
      }
      const t0 = performance.now();
      const P = model.predictProbaMany(X);
      const t1 = performance.now();
      for (let i = 0; i < size; i++) {
        const best = argmax(P[i]);
        res.lossSum += logLossOne(P[i], Y[i]);
        countPrediction(res.perClass, Y[i], best);
        if (best === Y[i]) res.correct++;
      }
      if (measureGap) {
        const Pt = model.predictProbaMany(X, { training: true });
        for (let i = 0; i < size; i++) {
          const tv = totalVariation(Pt[i], P[i]);
          res.gapSum += tv;
          res.gapCount++;
          if (start + i >= lateFrom) {
            res.gapLateSum += tv;
            res.gapLateCount++;
          }
        }
      }
      const t2 = performance.now();
      model.learnMany(X, Y);
      res.seconds += (t1 - t0 + (performance.now() - t2)) / 1000;
      if (size === 1) res.singletonBatches++;
      res.events += size;
      res.batches++;
      start += size;
    }
  } catch (err) {
    res.failed = (err as Error).message;
  }
  const stats = (model as unknown as { singletonEvents?: { skipped: number; runningStats: number } })
    .singletonEvents;
  res.singletonSkipped = stats?.skipped ?? 0;
  res.singletonRunningStats = stats?.runningStats ?? 0;
  res.rejectedUpdates = model.rejectedUpdates;
  return res;
}
