import type { OperatorFunction } from 'rxjs';
import { ConfigError, ModelError } from '../errors.js';
import {
  addToScore,
  argmax,
  deriveScore,
  emptyScore,
  LOG_LOSS_EPS,
  logLossOne,
  runningScoreSums,
  squaredError,
  type RunningScore,
} from '../evaluation/index.js';
import { isClassifier, type Features, type OnlineModel, type Task } from '../models/types.js';
import { isDeadLetter, type Decoded } from './decodeEvents.js';
import type { DeadLetter, Envelope } from './event.js';
import { compareOffsets, nextOffset } from './offsets.js';
import { operate } from './operate.js';

// The scores live in src/evaluation (shared with the comparison and early stopping); these names stay here too.
export { emptyScore, LOG_LOSS_EPS, type RunningScore };

/** One event's prediction, made before the model learned it. */
export interface EventPrediction {
  id: string;
  /** Class index (classifiers) or value (regressors). */
  predicted: number;
  /** Class probabilities (classifiers). */
  proba?: number[];
  /** The label, when the event had one. */
  y?: number;
  /** Log loss (classifiers) or squared error (regressors), for labeled events. */
  loss?: number;
  /** 0 or 1 (classifiers, labeled events). */
  error?: number;
}

/** What one model variant did with one batch. */
export interface VariantBatchResult {
  variant: string;
  task: Task;
  /** One per event, in batch order (empty when `options.predictions` is false). */
  predictions: EventPrediction[];
  /** Events learned in this batch. */
  labeled: number;
  /** Mean loss / error over this batch's labeled events (NaN when none). */
  loss: number;
  error: number;
  running: RunningScore;
  /** The model's count of rejected non-finite updates, after this batch. */
  rejectedUpdates: number;
  /** Wall time spent predicting and learning this batch. */
  processingSeconds: number;
}

/** Shared between a prequential operator and its results: how many batches the models have learned. */
export interface PrequentialProgress {
  batches: number;
}

/** One batch after prequential evaluation. */
export interface PrequentialResult {
  /** Batch number (0-based, continuing from `options.resume.batches`). */
  batch: number;
  envelopes: readonly Envelope[];
  deadLetters: readonly DeadLetter[];
  /** Messages in the batch (events + dead letters): what a checkpoint counts. */
  messages: number;
  /** Next offset per `"topic:partition"` covered by this batch, dead letters included. */
  offsets: Record<string, string>;
  /** One result per variant, in the order the variants were given. */
  variants: VariantBatchResult[];
  /** The live models (read their state right away: they keep learning). */
  models: Readonly<Record<string, OnlineModel>>;
  progress: Readonly<PrequentialProgress>;
  /**
   * Work that must finish before this batch may be checkpointed (e.g. publishing its predictions, for
   * at-least-once output). Stages between `prequential` and `checkpoint` push promises here.
   */
  pending: PromiseLike<unknown>[];
}

export interface PrequentialOptions {
  /** `'many'` (default): one `learnMany` step per batch (mean gradient); `'one'`: `learnOne` per event. */
  learn?: 'many' | 'one';
  /** Fading factor α in (0, 1] of the faded scores (default 0.999). */
  fading?: number;
  /** Variant name of a single model (default `'default'`). */
  name?: string;
  /** Keep per-event predictions in the results (default true; false saves allocation in benchmarks). */
  predictions?: boolean;
  /** Continue scores and batch numbers from a checkpoint. */
  resume?: { scores?: Readonly<Record<string, RunningScore>>; batches?: number };
  /**
   * Every event a model threw on (reason `model_error`), as it is isolated: one no variant could predict is
   * also in the result's `deadLetters` (out of the batch for every variant); one a variant could not learn
   * was predicted and scored, and is reported here only.
   */
  onDeadLetter?: (letter: DeadLetter) => void;
}

function resumeScore(s: RunningScore | undefined, task: Task): RunningScore {
  const r = emptyScore();
  if (s) {
    for (const k of runningScoreSums) {
      if (!Number.isFinite(s[k])) throw new ConfigError(`resume score ${k} must be finite, got ${s[k]}`);
      r[k] = s[k];
    }
  }
  deriveScore(r, task);
  return r;
}

function isModel(m: unknown): m is OnlineModel {
  return (
    m !== null &&
    typeof m === 'object' &&
    typeof (m as OnlineModel).learnMany === 'function' &&
    typeof (m as OnlineModel).predictMany === 'function'
  );
}

/** Normalize `model | { name: model }` into named variants (validated). */
export function toVariants(
  models: OnlineModel | Readonly<Record<string, OnlineModel>>,
  name = 'default',
): Record<string, OnlineModel> {
  const variants: Record<string, OnlineModel> = isModel(models) ? { [name]: models } : { ...models };
  const names = Object.keys(variants);
  if (names.length === 0) throw new ConfigError('prequential needs at least one model');
  for (const n of names) {
    if (!isModel(variants[n])) throw new ConfigError(`variant "${n}" is not an OnlineModel`);
    if (!/^[A-Za-z0-9_.:-]+$/.test(n))
      throw new ConfigError(`variant name "${n}" must match [A-Za-z0-9_.:-]+ (it becomes a metric label)`);
  }
  return variants;
}

/** Next offset per partition covered by a batch (the largest offset seen, plus one). */
function batchOffsets(items: readonly Decoded[]): Record<string, string> {
  const last: Record<string, string> = {};
  let topic: string | null = null;
  let partition = -1;
  let k = '';
  for (const d of items) {
    const o = d.origin;
    // Batches are runs of one partition: build the key only when it changes.
    if (o.partition !== partition || o.topic !== topic) {
      topic = o.topic;
      partition = o.partition;
      k = `${topic}:${partition}`;
    }
    const cur = last[k];
    if (cur === undefined || compareOffsets(o.offset, cur) > 0) last[k] = o.offset;
  }
  for (const k of Object.keys(last)) last[k] = nextOffset(last[k]);
  return last;
}

/**
 * Prequential (test-then-train) evaluation: for each batch every model first predicts every event with its
 * current weights, then learns the labeled ones — `learnMany` once per batch by default (one mini-batch step),
 * or `learnOne` per event with `learn: 'one'`. So every loss is measured on an event the model has not yet
 * seen. Events without a label are predicted only; dead letters are never shown to a model (they only move the
 * batch's offsets).
 *
 * Pass one model, or `{ name: model }` to evaluate several variants on identical batches; results are labeled
 * by variant. Loss: log loss for classifiers (probability clipped at {@link LOG_LOSS_EPS}), squared error for
 * regressors; error: 0/1 for classifiers. A model that throws errors the stream.
 *
 * @example
 * decoded$.pipe(rebatch({ count: 16 }), prequential({ l1: lasso, l2: ridge }))
 */
export function prequential(
  models: OnlineModel | Readonly<Record<string, OnlineModel>>,
  options: PrequentialOptions = {},
): OperatorFunction<readonly Decoded[], PrequentialResult> {
  const variants = toVariants(models, options.name);
  const names = Object.keys(variants);
  const learn = options.learn ?? 'many';
  if (learn !== 'many' && learn !== 'one')
    throw new ConfigError(`prequential learn must be 'many' or 'one', got ${String(learn)}`);
  const alpha = options.fading ?? 0.999;
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha <= 1))
    throw new ConfigError(`prequential fading must be in (0, 1], got ${alpha}`);
  const keepPredictions = options.predictions ?? true;
  const startBatch = options.resume?.batches ?? 0;
  if (!(Number.isInteger(startBatch) && startBatch >= 0))
    throw new ConfigError(`resume.batches must be a non-negative integer, got ${startBatch}`);

  return operate<readonly Decoded[], PrequentialResult>((out) => {
    const progress: PrequentialProgress = { batches: startBatch };
    const scores = names.map((n) => resumeScore(options.resume?.scores?.[n], variants[n].task));
    const frozenModels = Object.freeze({ ...variants });

    const runVariant = (
      i: number,
      envelopes: Envelope[],
      X: Features[],
      labeledIdx: number[],
    ): VariantBatchResult => {
      const name = names[i];
      const model = variants[name];
      const score = scores[i];
      const classifier = isClassifier(model);
      const task = model.task;
      const t0 = performance.now();
      const n = envelopes.length;
      const predictions: EventPrediction[] = keepPredictions ? new Array(n) : [];
      let batchLoss = 0;
      let batchError = 0;
      if (n > 0) {
        // Test: every event predicted before the model sees any label of this batch.
        const proba = classifier ? model.predictProbaMany(X) : null;
        const values = classifier ? null : model.predictMany(X);
        for (let j = 0; j < n; j++) {
          const ev = envelopes[j].event;
          const p = proba ? proba[j] : undefined;
          const predicted = p ? argmax(p) : values![j];
          const pred: EventPrediction | null = keepPredictions ? { id: ev.id, predicted } : null;
          if (pred && p) pred.proba = Array.from(p);
          if (ev.y !== undefined) {
            let loss: number;
            let err = 0;
            if (p) {
              const y = ev.y;
              if (!(Number.isInteger(y) && y >= 0 && y < p.length))
                throw new ModelError(
                  `event ${ev.id}: label ${y} is not a class of variant "${name}" (${p.length} classes); set schema.label.classes`,
                );
              loss = logLossOne(p, y);
              err = predicted === y ? 0 : 1;
            } else {
              loss = squaredError(ev.y, predicted);
            }
            batchLoss += loss;
            batchError += err;
            addToScore(score, loss, err, alpha);
            if (pred) {
              pred.y = ev.y;
              pred.loss = loss;
              if (p) pred.error = err;
            }
          }
          if (pred) predictions[j] = pred;
        }
        score.events += n;
        score.labeled += labeledIdx.length;
        deriveScore(score, task);
      }
      const m = labeledIdx.length;
      return {
        variant: name,
        task,
        predictions,
        labeled: m,
        loss: m > 0 ? batchLoss / m : NaN,
        error: m > 0 && classifier ? batchError / m : NaN,
        running: { ...score },
        rejectedUpdates: model.rejectedUpdates,
        processingSeconds: (performance.now() - t0) / 1000,
      };
    };

    /** Train: one learnMany step on the batch's labeled events, or learnOne per event. */
    const learnVariant = (i: number, envelopes: Envelope[], X: Features[], labeledIdx: number[]): void => {
      const model = variants[names[i]];
      const m = labeledIdx.length;
      if (m === 0) return;
      if (learn === 'one') {
        for (const j of labeledIdx) model.learnOne(X[j], envelopes[j].event.y!);
      } else {
        const Xl = m === X.length ? X : labeledIdx.map((j) => X[j]);
        const Yl = labeledIdx.map((j) => envelopes[j].event.y!);
        model.learnMany(Xl, Yl);
      }
    };

    /**
     * Test every variant on the batch (predictions and scores, no learning). If a model throws, the batch is
     * retried event by event: an event some variant cannot predict alone is taken out of the batch for every
     * variant and becomes a dead letter, and the rest is tested again. An error no single event causes is
     * rethrown (it is not the data's fault).
     */
    const testAll = (
      envelopes: Envelope[],
      letters: DeadLetter[],
    ): { envelopes: Envelope[]; X: Features[]; labeledIdx: number[]; results: VariantBatchResult[] } => {
      for (;;) {
        const X = envelopes.map((e) => e.event.x);
        const labeledIdx: number[] = [];
        for (let j = 0; j < envelopes.length; j++) if (envelopes[j].event.y !== undefined) labeledIdx.push(j);
        const before = scores.map((s) => ({ ...s }));
        try {
          return {
            envelopes,
            X,
            labeledIdx,
            results: names.map((_, i) => runVariant(i, envelopes, X, labeledIdx)),
          };
        } catch (err) {
          scores.forEach((s, i) => Object.assign(s, before[i]));
          const kept: Envelope[] = [];
          for (const e of envelopes) {
            const alone = e.event.y === undefined ? [] : [0];
            let culprit: { variant: string; error: unknown } | null = null;
            for (let i = 0; i < names.length && culprit === null; i++) {
              try {
                runVariant(i, [e], [e.event.x], alone);
              } catch (error) {
                culprit = { variant: names[i], error };
              }
            }
            scores.forEach((s, i) => Object.assign(s, before[i]));
            if (culprit === null) kept.push(e);
            else {
              const letter = modelErrorLetter(e, culprit.variant, culprit.error);
              letters.push(letter);
              options.onDeadLetter?.(letter);
            }
          }
          if (kept.length === envelopes.length) throw err;
          envelopes = kept;
        }
      }
    };

    return {
      next(items) {
        const envelopes: Envelope[] = [];
        const deadLetters: DeadLetter[] = [];
        for (const d of items) {
          if (isDeadLetter(d)) deadLetters.push(d);
          else envelopes.push(d);
        }
        const tested = testAll(envelopes, deadLetters);
        const { X, labeledIdx, results } = tested;
        for (let i = 0; i < names.length; i++) {
          const t0 = performance.now();
          try {
            learnVariant(i, tested.envelopes, X, labeledIdx);
          } catch {
            // Retried event by event: each labeled event is learned alone, and one the model still throws on
            // is a dead letter for this variant (it was predicted and scored; the stream goes on).
            const model = variants[names[i]];
            for (const j of labeledIdx) {
              const e = tested.envelopes[j];
              try {
                if (learn === 'one') model.learnOne(X[j], e.event.y!);
                else model.learnMany([X[j]], [e.event.y!]);
              } catch (error) {
                options.onDeadLetter?.(modelErrorLetter(e, names[i], error));
              }
            }
          }
          results[i].processingSeconds += (performance.now() - t0) / 1000;
          results[i].rejectedUpdates = variants[names[i]].rejectedUpdates;
        }
        const batch = progress.batches;
        progress.batches++;
        out.next({
          batch,
          envelopes: tested.envelopes,
          deadLetters,
          messages: items.length,
          offsets: batchOffsets(items),
          variants: results,
          models: frozenModels,
          progress,
          pending: [],
        });
      },
    };
  });
}

/** Longest `raw` text kept in a model-error dead letter. */
const MAX_RAW = 1 << 16;

/** The dead letter of an event a model threw on (reason `model_error`). */
function modelErrorLetter(e: Envelope, variant: string, error: unknown): DeadLetter {
  const why = error instanceof Error ? error.message || error.name : String(error);
  let raw: string;
  try {
    raw = JSON.stringify(e.event, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v));
  } catch {
    raw = String(e.event.id);
  }
  return {
    origin: e.origin,
    key: e.event.key ?? null,
    reason: 'model_error',
    detail: `variant "${variant}": ${why}`,
    raw: raw.length > MAX_RAW ? raw.slice(0, MAX_RAW) : raw,
  };
}
