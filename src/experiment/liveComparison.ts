/**
 * The comparison through the live operator pipeline (what `streamnorm main` runs): for each seed, arrival
 * order and arrival batch size, the stream's events go through decodeEvents → rebatch → prequential →
 * instrument into every normalizer's model side by side (one variant per normalizer, so the metrics carry
 * `variant="batch"`, `variant="layer"`, ...), with Prometheus metrics on one registry for the whole job.
 * Each run's predictions are scored into the same cells `compare` aggregates (rows with 95 % intervals and
 * paired differences against BatchNorm). The pipeline's prequential operator takes one optimizer step per
 * arrival batch (its `learnMany`), so here `stepEvents` is 'arrival'.
 */
import { lastValueFrom, Observable, tap } from 'rxjs';
import {
  argmax,
  averagePrecision,
  countPrediction,
  emptyClassCounts,
  klDivergence,
  logLossOne,
  totalVariation,
} from '../evaluation/index.js';
import type { PipelineMetrics } from '../metrics/catalog.js';
import type { Classifier, Features } from '../models/types.js';
import { decodeEvents, type XShape } from '../streams/decodeEvents.js';
import type { Envelope, RawMessage, StreamEvent } from '../streams/event.js';
import { createInstrumenter } from '../streams/instrument.js';
import { prequential } from '../streams/prequential.js';
import { rebatch } from '../streams/rebatch.js';
import { formatArrival, parseArrival } from './arrival.js';
import {
  batchLabel,
  defaultCompareModel,
  isPerSampleSpec,
  makeCompareModel,
  type CellResult,
} from './cell.js';
import { aggregateCells, defaultWarmup, validateAgainstModel } from './compare.js';
import { DrawCache, drawsPerSeed } from './draw.js';
import { describeSource, inferClasses, inferShape, type EventSource } from './source.js';
import type { CompareResult } from './types.js';

export interface LiveComparisonOptions {
  source: EventSource;
  normalizers: string[];
  batchSizes: number[];
  arrivals: string[];
  seeds: number;
  lr: number;
  hidden?: number;
  kernel?: number;
  metrics: PipelineMetrics;
  /** Called after each (seed, arrival, batch size) run. */
  onRun?: (done: number, total: number) => void;
}

type Scored = Classifier & {
  predictProbaMany(X: Features[], opts?: { training?: boolean }): number[][];
  steps?: number;
};

function emptyCell(
  normalizer: string,
  batch: number,
  arrival: string,
  seed: number,
  lr: number,
  classes: number,
): CellResult {
  return {
    normalizer,
    batchSize: batch,
    arrival,
    seed,
    lr,
    tuning: false,
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
    singletonPolicy: defaultCompareModel.singletonPolicy,
    rejectedUpdates: 0,
  };
}

/**
 * The messages as a source that hands the event loop back every `chunk` messages (setImmediate), as a
 * Kafka consumer's fetches do: a synchronous source would starve the metrics server for the whole run.
 */
function yielding<T>(items: readonly T[], chunk = 64): Observable<T> {
  return new Observable<T>((sub) => {
    let i = 0;
    let handle: ReturnType<typeof setImmediate> | undefined;
    const step = (): void => {
      const end = Math.min(i + chunk, items.length);
      for (; i < end && !sub.closed; i++) sub.next(items[i]);
      if (i >= items.length) sub.complete();
      else if (!sub.closed) handle = setImmediate(step);
    };
    handle = setImmediate(step);
    return () => {
      if (handle !== undefined) clearImmediate(handle);
    };
  });
}

/** Runs the grid through the operator pipeline and returns the comparison result (rows as `compare` makes them). */
export async function runLiveComparison(o: LiveComparisonOptions): Promise<CompareResult> {
  const started = performance.now();
  const arrivals = o.arrivals.map((a) => formatArrival(parseArrival(a)));
  const cache = new DrawCache(o.source);
  const first = cache.base(1);
  const shape = inferShape(first);
  const classes = inferClasses(first);
  const model = {
    lr: o.lr,
    ...(o.hidden === undefined ? {} : { hidden: o.hidden }),
    ...(o.kernel === undefined ? {} : { kernel: o.kernel }),
  };
  validateAgainstModel(first, shape, classes, { normalizers: o.normalizers, arrivals, model });
  const xShape: XShape =
    shape.length === 2 ? { kind: 'window', shape: [shape[0], shape[1]] } : { kind: 'vector', dim: shape[0] };
  const warmup = defaultWarmup(first.length);
  const instrumenter = createInstrumenter(o.metrics, { mode: 'replay' });
  const cells: CellResult[] = [];
  const total = o.seeds * arrivals.length * o.batchSizes.length;
  let done = 0;
  for (let seed = 1; seed <= o.seeds; seed++) {
    for (const arrival of arrivals) {
      const events: StreamEvent[] = cache.arranged(arrival, seed);
      const n = events.length;
      const lateFrom = Math.floor((3 * n) / 4);
      for (const batch of o.batchSizes) {
        const models: Record<string, Scored> = {};
        const mine: Record<string, CellResult> = {};
        const scores: Record<string, number[]> = {};
        for (const norm of o.normalizers) {
          models[norm] = makeCompareModel(norm, shape, classes, seed, model) as Scored;
          mine[norm] = emptyCell(norm, batch, arrival, seed, o.lr, classes);
          scores[norm] = [];
        }
        const labels: number[] = [];
        let index = 0;
        const messages: RawMessage[] = events.map((e, i) => ({
          origin: { topic: 'main', partition: 0, offset: String(i), timestamp: e.ts },
          key: e.key ?? null,
          value: e,
          receivedAt: Date.now(),
        }));
        await lastValueFrom(
          yielding(messages).pipe(
            decodeEvents({ x: xShape, label: { classes } }),
            rebatch({ count: batch }),
            // The train-versus-inference gap of this batch, measured before the pipeline predicts and learns it.
            tap((b) => {
              const X = b.filter((d): d is Envelope => 'event' in d).map((d) => d.event.x);
              for (const norm of o.normalizers) {
                if (isPerSampleSpec(norm) || X.length === 0) continue;
                const m = models[norm];
                const P = m.predictProbaMany(X);
                const Pt = m.predictProbaMany(X, { training: true });
                const c = mine[norm];
                for (let i = 0; i < X.length; i++) {
                  const tv = totalVariation(Pt[i], P[i]);
                  c.gapSum += tv;
                  c.klSum += klDivergence(Pt[i], P[i]);
                  c.gapCount++;
                  if (index + i >= lateFrom) {
                    c.gapLateSum += tv;
                    c.gapLateCount++;
                  }
                }
              }
            }),
            prequential(models, { predictions: true }),
            tap((r) => {
              instrumenter.observe(r);
              let size = 0;
              for (const v of r.variants) {
                const c = mine[v.variant];
                c.batches++;
                c.seconds += v.processingSeconds;
                size = v.predictions.length;
                v.predictions.forEach((p, i) => {
                  const y = p.y as number;
                  const proba = p.proba as number[];
                  const best = argmax(proba);
                  const loss = logLossOne(proba, y);
                  c.events++;
                  c.lossSum += loss;
                  countPrediction(c.perClass, y, best);
                  if (best === y) c.correct++;
                  if (index + i >= warmup) {
                    c.eventsAfterWarmup++;
                    c.lossSumAfterWarmup += loss;
                    if (best === y) c.correctAfterWarmup++;
                  }
                  if (classes === 2) scores[v.variant].push(proba[1]);
                });
                if (size === 1) c.singletonBatches++;
              }
              if (classes === 2)
                for (let i = 0; i < size; i++) labels.push(r.variants[0].predictions[i].y as number);
              index += size;
            }),
          ),
          { defaultValue: undefined },
        );
        instrumenter.flush();
        for (const norm of o.normalizers) {
          const c = mine[norm];
          const m = models[norm] as Scored & { singletonEvents?: { skipped: number; runningStats: number } };
          c.steps = m.steps ?? 0;
          c.rejectedUpdates = m.rejectedUpdates;
          c.singletonSkipped = m.singletonEvents?.skipped ?? 0;
          c.singletonRunningStats = m.singletonEvents?.runningStats ?? 0;
          if (classes === 2) c.auprc = averagePrecision(scores[norm], labels);
          cells.push(c);
        }
        o.onRun?.(++done, total);
      }
    }
  }
  const batchSpecs = o.batchSizes.map((size) => ({ kind: 'fixed' as const, size }));
  // Windows give each channel several values (L − K + 1) even in a batch of one; vectors one.
  const valuesPerChannel = shape.length === 2 ? 2 : 1;
  const rows = aggregateCells(
    cells,
    o.normalizers,
    batchSpecs,
    arrivals,
    'arrival',
    valuesPerChannel,
    () => o.lr,
  );
  const counts = new Array<number>(classes).fill(0);
  for (const e of first) counts[e.y as number]++;
  return {
    meta: {
      source: describeSource(o.source),
      events: first.length,
      shape,
      classes,
      baselineError: 1 - Math.max(...counts) / first.length,
      model: { family: shape.length === 2 ? 'windownet' : 'mlp', ...defaultCompareModel, ...model },
      normalizers: o.normalizers,
      batchSizes: batchSpecs.map((b) => String(batchLabel(b))),
      arrivals,
      stepEvents: 'arrival',
      warmup,
      lr: o.lr,
      draws: drawsPerSeed(o.source)
        ? 'each seed draws the dataset anew and seeds its arrival order and models'
        : 'the same events every seed, reordered per seed',
      seeds: o.seeds,
      jobs: 1,
      wallSeconds: (performance.now() - started) / 1000,
      date: new Date().toISOString(),
      node: process.version,
    },
    rows,
  };
}
