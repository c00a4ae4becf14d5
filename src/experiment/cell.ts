/**
 * One cell of the normalization comparison: one normalizer, one arrival batch size policy, one arrival order,
 * one seed, run through the prequential loop (predict the arrival batch in inference mode, score it, then
 * learn it). The same loop, data draw and model for every cell of a seed; only the normalizer, the batching
 * and the learning rate differ.
 *
 * Learning is decoupled from arrival: with `stepEvents: N` the gradient of each arrival batch is accumulated
 * (the normalizer sees that batch as its batch, as a per-GPU batch in data-parallel training) and one
 * optimizer step is taken every N events, so every arrival batch size takes the same number of steps. With
 * `stepEvents: 'arrival'` each arrival batch is one step (more steps for smaller batches).
 */
import { ConfigError } from '../errors.js';
import { modelFamily } from '../models/modelFamilies.js';
import type { FlatVariantOptions, StreamShape } from '../models/modelFamily.js';
import {
  argmax,
  averagePrecision,
  countPrediction,
  emptyClassCounts,
  klDivergence,
  logLossOne,
  totalVariation,
} from '../evaluation/index.js';
import { isNormalizerSpec, normalizerTraits } from '../normalizers/descriptors.js';
import type { Classifier, Features } from '../models/types.js';
import { poissonSizes } from '../streams/rebatch.js';
import type { StreamEvent } from '../streams/event.js';
import { EpisodeTally, type EpisodeCounts, type EpisodeIndex } from './episodeTally.js';

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

/** Options of the compared models, shared by every cell (the normalizer, seed and lr are set per cell). */
export interface CompareModelOptions {
  /** Model family (`modelFamilies`): default `windownet` for windows `[C, L]`, `mlp` for vectors `[d]`. */
  family?: string;
  /** Hidden width: the conv channels of a WindowNet, the layer sizes of an Mlp (`[64, 64]`: two layers). */
  hidden?: number | number[];
  kernel?: number;
  /** Rnn: the mean of the hidden states over time or the last one (the family's default unless given). */
  readout?: 'mean' | 'last';
  dropout?: number;
  /** Adam's learning rate when a cell does not set its own. */
  lr?: number;
  weightDecay?: number;
  singletonPolicy?: 'error' | 'running-stats' | 'skip';
}

/**
 * What a comparison sets beyond the family's own defaults (the layer sizes and kernel are the family's unless
 * given, so the nets' measured defaults apply).
 */
export const defaultCompareModel = {
  dropout: 0,
  lr: 0.01,
  weightDecay: 0,
  singletonPolicy: 'running-stats' as 'error' | 'running-stats' | 'skip',
};

/** Events per optimizer step (gradients accumulate over arrival batches), or one step per arrival batch. */
export type StepEvents = number | 'arrival';

export interface CellTask {
  normalizer: string;
  batch: BatchSizeSpec;
  /** Arrival order spec (`iid`, `recorded`, `bursty:8`, `keyed:4`) the events were arranged in; a label here ['recorded']. */
  arrival?: string;
  /** Seed of the model (initialization, dropout) and of the data draw (generation, shuffle, runs). */
  seed: number;
  /** ['arrival']: one step per arrival batch. */
  stepEvents?: StepEvents;
  /** [the model options' lr, 0.01]. */
  lr?: number;
  /** A learning-rate tuning run (its own data draw, never scored in the results). */
  tuning?: boolean;
}

/** Raw sums of one cell, aggregated over seeds by `aggregateCells`. */
export interface CellResult {
  normalizer: string;
  batchSize: number | string;
  arrival: string;
  seed: number;
  lr: number;
  tuning: boolean;
  events: number;
  batches: number;
  /** Optimizer steps the model took (counted by the model). */
  steps: number;
  lossSum: number;
  correct: number;
  /** Events from index `warmup` on, and their log loss and correct predictions. */
  eventsAfterWarmup: number;
  lossSumAfterWarmup: number;
  correctAfterWarmup: number;
  /** Per class: [correct, total]. */
  perClass: [number, number][];
  /** Average precision of P(class 1) over the stream, binary streams only (NaN without positives). */
  auprc?: number;
  /** Seconds spent in predict + learn (the gap measurement excluded). */
  seconds: number;
  gapSum: number;
  klSum: number;
  gapCount: number;
  gapLateSum: number;
  gapLateCount: number;
  singletonBatches: number;
  singletonSkipped: number;
  singletonRunningStats: number;
  singletonPolicy: string;
  rejectedUpdates: number;
  /** Anomaly streams: episodes detected and false alarms (class 1 predicted = flagged), when scored. */
  episodes?: EpisodeCounts;
  failed?: string;
}

/** The stream shape a model family is built for. */
export function streamShape(shape: number[]): StreamShape {
  return shape.length === 2
    ? { kind: 'window', channels: shape[0], length: shape[1] }
    : { kind: 'vector', dim: shape[0] };
}

/** The family a comparison uses: the named one, or WindowNet for windows and Mlp for vectors. */
export function compareFamily(shape: number[], o: CompareModelOptions = {}): string {
  return o.family ?? (shape.length === 2 ? 'windownet' : 'mlp');
}

/**
 * Builds the model a cell compares, through its family's descriptor (`modelFamilies`): the family maps the
 * flat options (normalizer, hidden, kernel, dropout, lr, ...) onto its own and builds for the stream's shape.
 */
export function makeCompareModel(
  normalizer: string,
  shape: number[],
  classes: number,
  seed: number,
  o: CompareModelOptions = {},
  lr?: number,
): Classifier {
  const m = { ...defaultCompareModel, ...o };
  const family = modelFamily(compareFamily(shape, o));
  const flat: FlatVariantOptions = {
    normalizer,
    ...(o.hidden === undefined ? {} : { hidden: o.hidden }),
    ...(o.kernel === undefined ? {} : { kernel: o.kernel }),
    ...(o.readout === undefined ? {} : { readout: o.readout }),
    dropout: m.dropout,
    lr: lr ?? m.lr,
    weightDecay: m.weightDecay,
    singletonPolicy: m.singletonPolicy,
    seed,
  };
  const model = family.create(family.optionsFrom(flat, classes), streamShape(shape));
  if (model.task !== 'classification')
    throw new ConfigError(`compare: model ${family.name} is not a classifier`);
  return model as Classifier;
}

type TrainingPredictor = Classifier & {
  predictProbaMany(X: Features[], opts?: { training?: boolean }): number[][];
  accumulateMany?(X: Features[], Y: number[]): void;
  stepAccumulated?(): boolean;
  readonly pendingEvents?: number;
  readonly steps?: number;
};

/**
 * Runs one cell on its events (already drawn and arranged in arrival order). Never throws for a model
 * failure: the cell comes back with `failed` set, so one broken combination does not take the grid down.
 * `warmup`: the number of leading events excluded from the `AfterWarmup` scores. `episodes`: the anomaly
 * episodes of the draw (binary streams), to score per-episode recall and false alarms.
 */
export function runCell(
  events: readonly StreamEvent[],
  shape: number[],
  classes: number,
  task: CellTask,
  modelOptions: CompareModelOptions = {},
  warmup = 0,
  episodes?: EpisodeIndex,
): CellResult {
  const res: CellResult = {
    normalizer: task.normalizer,
    batchSize: batchLabel(task.batch),
    arrival: task.arrival ?? 'recorded',
    seed: task.seed,
    lr: task.lr ?? modelOptions.lr ?? defaultCompareModel.lr,
    tuning: task.tuning === true,
    events: 0,
    batches: 0,
    steps: 0,
    lossSum: 0,
    correct: 0,
    eventsAfterWarmup: 0,
    lossSumAfterWarmup: 0,
    correctAfterWarmup: 0,
    perClass: emptyClassCounts(classes),
    seconds: 0,
    gapSum: 0,
    klSum: 0,
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
    model = makeCompareModel(
      task.normalizer,
      shape,
      classes,
      task.seed,
      modelOptions,
      res.lr,
    ) as TrainingPredictor;
  } catch (err) {
    res.failed = (err as Error).message;
    return res;
  }
  const stepEvents = task.stepEvents ?? 'arrival';
  if (
    stepEvents !== 'arrival' &&
    (model.accumulateMany === undefined || model.stepAccumulated === undefined)
  ) {
    res.failed = `model ${model.kind} cannot accumulate gradients over arrival batches (use --step-events arrival)`;
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
  const binary = classes === 2;
  const tally = binary && episodes !== undefined ? new EpisodeTally(episodes) : undefined;
  const scores: number[] = [];
  const labels: number[] = [];
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
        const loss = logLossOne(P[i], Y[i]);
        res.lossSum += loss;
        countPrediction(res.perClass, Y[i], best);
        if (best === Y[i]) res.correct++;
        if (start + i >= warmup) {
          res.eventsAfterWarmup++;
          res.lossSumAfterWarmup += loss;
          if (best === Y[i]) res.correctAfterWarmup++;
        }
        if (binary) {
          scores.push(P[i][1]);
          labels.push(Y[i]);
        }
        tally?.observe(events[start + i].id, Y[i], best === 1);
      }
      if (measureGap) {
        const Pt = model.predictProbaMany(X, { training: true });
        for (let i = 0; i < size; i++) {
          const tv = totalVariation(Pt[i], P[i]);
          res.gapSum += tv;
          res.klSum += klDivergence(Pt[i], P[i]);
          res.gapCount++;
          if (start + i >= lateFrom) {
            res.gapLateSum += tv;
            res.gapLateCount++;
          }
        }
      }
      const t2 = performance.now();
      if (stepEvents === 'arrival') {
        model.learnMany(X, Y);
      } else {
        (model.accumulateMany as (X: Features[], Y: number[]) => void)(X, Y);
        if ((model.pendingEvents ?? 0) >= stepEvents) (model.stepAccumulated as () => boolean)();
      }
      res.seconds += (t1 - t0 + (performance.now() - t2)) / 1000;
      if (size === 1) res.singletonBatches++;
      res.events += size;
      res.batches++;
      start += size;
    }
    if (binary) res.auprc = averagePrecision(scores, labels);
    if (tally !== undefined) res.episodes = tally.result();
  } catch (err) {
    res.failed = (err as Error).message;
  }
  const stats = (model as unknown as { singletonEvents?: { skipped: number; runningStats: number } })
    .singletonEvents;
  res.singletonSkipped = stats?.skipped ?? 0;
  res.singletonRunningStats = stats?.runningStats ?? 0;
  res.rejectedUpdates = model.rejectedUpdates;
  res.steps = model.steps ?? 0;
  return res;
}
