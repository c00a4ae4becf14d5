import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';
import { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';
import { trainInferenceGap } from '../evaluation/index.js';
import {
  createDriftDetector,
  type DriftDetector,
  type DriftDetectorSpec,
} from '../models/drift/driftDetector.js';
import type { Features, OnlineModel } from '../models/types.js';
import { PipelineMetrics, type NormalizerStats, type PipelineMode } from '../metrics/catalog.js';
import type { LiveReadiness } from '../metrics/readiness.js';
import { operate } from './operate.js';
import type { CheckpointAck } from './checkpoint.js';
import type { KafkaSourceEvents } from './fromKafka.js';
import type { PrequentialResult } from './prequential.js';

/** Options for {@link instrument}. */
export interface InstrumentOptions {
  /** `'live'` (Kafka) or `'replay'` (a recording fed straight into the models): the `mode` label. */
  mode: PipelineMode;
  /**
   * How the upstream `prequential` learns (its `learn` option, default `'many'`). With `'many'` a model
   * takes one step per batch, so a rejected or skipped step means every labeled event of the batch was not
   * learned; with `'one'` each step is one event.
   */
  learn?: 'many' | 'one';
  /**
   * Read weight statistics, normalizer statistics and the train-versus-inference gap at most this often
   * (ms, default 1000; 0 = every batch). They cost O(weights) or two extra forward passes, so not per batch.
   */
  modelEveryMs?: number;
  /** Measure the train-versus-inference gap on the current batch for nets that support it (default true). */
  trainInferenceGap?: boolean;
  /**
   * A drift detector per variant on its prequential loss (each labeled event's loss; the batch mean when
   * predictions are not kept); each alarm increments `streamnorm_drift_alarms_total`. None by default. The
   * detectors serve monitoring only: they start afresh with the process.
   */
  drift?: DriftDetectorSpec;
  /** Clock in ms (latency, throttling). Default: `scheduler.now`, else `Date.now`. */
  now?: () => number;
  /** The clock as an RxJS scheduler (marble tests pass a TestScheduler); `now` wins when both are given. */
  scheduler?: SchedulerLike;
}

/** What the operator may find on a model beyond `OnlineModel` (nets: normalizer statistics, training-mode prediction). */
interface NetLike {
  /** Singleton-batch counters of a net (read per batch: cheaper than normalizerStats()). */
  readonly singletonEvents?: { skipped: number };
  normalizerStats?(): NormalizerStats & { singletonEvents?: { skipped: number } };
  predictProbaMany?(X: Features[], opts?: { training?: boolean }): number[][];
}

/** Steps a model's step guard refused as out of proportion (RobustModel.outsizedUpdates; 0 for other models). */
function outsizedOf(model: unknown): number {
  const n = (model as { outsizedUpdates?: unknown } | undefined)?.outsizedUpdates;
  return typeof n === 'number' ? n : 0;
}

interface VariantTrack {
  rejected: number;
  /** Of `rejected`: steps a RobustModel's step guard refused as outsized (the rest were non-finite). */
  outsized: number;
  skipped: number;
  lastModelAt: number;
  detector: DriftDetector | null;
}

const registryMetrics = new WeakMap<Registry, PipelineMetrics>();

/** The one {@link PipelineMetrics} of a registry (metric names can be registered only once per registry). */
export function pipelineMetricsFor(registry: Registry): PipelineMetrics {
  let m = registryMetrics.get(registry);
  if (m === undefined) {
    m = new PipelineMetrics(registry);
    registryMetrics.set(registry, m);
  }
  return m;
}

/**
 * Report every prequential result to the metric catalog and pass it on unchanged: events by variant and
 * outcome, batch sizes, processing and event-to-prediction latency, the faded prequential loss and error,
 * rejected non-finite and skipped (singleton-batch) updates, dead letters by reason, the latest event time,
 * and, throttled, weight norms and sparsity, normalizer running-statistics drift and the train-versus-inference
 * gap (total variation between the class probabilities in training and in inference mode, as `compare` does).
 *
 * Put it right after `prequential` (before `checkpoint`): it reads the live models synchronously. It never
 * changes a result, so removing it changes nothing but the metrics.
 *
 * @example
 * const metrics = new PipelineMetrics(registry);
 * decoded$.pipe(rebatch({ count: 32 }), prequential(models), instrument(metrics, { mode: 'live' }), checkpoint(store))
 */
export function instrument(
  metrics: PipelineMetrics | Registry,
  options: InstrumentOptions,
): MonoTypeOperatorFunction<PrequentialResult> {
  createInstrumenter(metrics, options); // validate now, not at subscription
  return operate<PrequentialResult, PrequentialResult>((out) => {
    // Per subscription: rejected/skipped baselines belong to one run.
    const instrumenter = createInstrumenter(metrics, options);
    return {
      next(r) {
        instrumenter.observe(r);
        out.next(r);
      },
      complete() {
        instrumenter.flush();
        out.complete();
      },
    };
  });
}

/** The state behind {@link instrument}, for pipelines that report results through a callback. */
export interface Instrumenter {
  /** Record one prequential result. */
  observe(r: PrequentialResult): void;
  /** Export the models' latest statistics now (at the end of a run), regardless of throttling. */
  flush(): void;
}

/**
 * {@link instrument} without the operator: `observe` each result yourself (e.g. from `runLivePipeline`'s
 * `onResult`). Validates the options like `instrument`.
 */
export function createInstrumenter(
  metrics: PipelineMetrics | Registry,
  options: InstrumentOptions,
): Instrumenter {
  const m = metrics instanceof Registry ? pipelineMetricsFor(metrics) : metrics;
  if (!(m instanceof PipelineMetrics)) {
    throw new ConfigError(
      `instrument needs PipelineMetrics or a prom-client Registry, got ${String(metrics)}`,
    );
  }
  const mode = options?.mode;
  if (mode !== 'live' && mode !== 'replay') {
    throw new ConfigError(`instrument mode must be 'live' or 'replay', got ${JSON.stringify(mode)}`);
  }
  const learn = options.learn ?? 'many';
  if (learn !== 'many' && learn !== 'one') {
    throw new ConfigError(`instrument learn must be 'many' or 'one', got ${JSON.stringify(learn)}`);
  }
  const modelEveryMs = options.modelEveryMs ?? 1000;
  if (!Number.isFinite(modelEveryMs) || modelEveryMs < 0) {
    throw new ConfigError(`instrument modelEveryMs must be a finite number >= 0, got ${modelEveryMs}`);
  }
  const measureGap = options.trainInferenceGap ?? true;
  const scheduler = options.scheduler;
  const now = options.now ?? (scheduler === undefined ? Date.now : () => scheduler.now());
  const driftSpec = options.drift;
  if (driftSpec !== undefined) createDriftDetector(driftSpec); // a bad spec fails here, not mid-stream
  const tracks = new Map<string, VariantTrack>();
  let last: PrequentialResult | null = null;

  const observeModel = (variant: string, model: OnlineModel, X: Features[] | null): void => {
    m.observeModel(variant, mode, model);
    if (!measureGap || X === null || X.length < 2) return;
    const net = model as OnlineModel & NetLike;
    if (typeof net.normalizerStats !== 'function' || typeof net.predictProbaMany !== 'function') return;
    let gap: number;
    try {
      gap = measureTrainInferenceGap(net.predictProbaMany.bind(net), X);
    } catch {
      // e.g. a normalizer that cannot run in training mode on this batch: keep the last value.
      return;
    }
    m.observeNormalizer(variant, mode, { trainInferenceGap: gap });
  };

  return {
    observe(r) {
      last = r;
      const t = now();
      const n = r.envelopes.length;
      const latencies = new Float64Array(n);
      const latestTs = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const e = r.envelopes[i];
        latencies[i] = (t - e.receivedAt) / 1000;
        const topic = e.origin.topic;
        const ts = e.event.ts;
        if (Number.isFinite(ts) && ts > (latestTs.get(topic) ?? -Infinity)) latestTs.set(topic, ts);
      }
      for (const [topic, ts] of latestTs) m.eventSeen(ts, topic, mode);
      for (const dl of r.deadLetters) m.deadLetter(dl.reason, dl.origin.topic, mode);

      let X: Features[] | null = null;
      for (const v of r.variants) {
        const model = r.models[v.variant];
        const net = model as OnlineModel & NetLike;
        const skippedNow =
          net?.singletonEvents !== undefined
            ? net.singletonEvents.skipped
            : typeof net?.normalizerStats === 'function'
              ? (net.normalizerStats().singletonEvents?.skipped ?? 0)
              : 0;
        // Steps this batch could have taken: the baseline for a model resumed with earlier counts.
        const maxSteps = learn === 'many' ? (v.labeled > 0 ? 1 : 0) : v.labeled;
        let track = tracks.get(v.variant);
        if (track === undefined) {
          track = {
            rejected: Math.max(0, v.rejectedUpdates - maxSteps),
            outsized: Math.max(0, outsizedOf(model) - maxSteps),
            skipped: Math.max(0, skippedNow - maxSteps),
            lastModelAt: -Infinity,
            detector: driftSpec === undefined ? null : createDriftDetector(driftSpec),
          };
          tracks.set(v.variant, track);
        }
        const rejectedSteps = Math.max(0, v.rejectedUpdates - track.rejected);
        const skippedSteps = Math.max(0, skippedNow - track.skipped);
        track.rejected = Math.max(track.rejected, v.rejectedUpdates);
        track.skipped = Math.max(track.skipped, skippedNow);
        const perStep = learn === 'many' ? v.labeled : 1;
        const skipped = Math.min(v.labeled, skippedSteps * perStep);
        const rejected = Math.min(v.labeled - skipped, rejectedSteps * perStep);

        m.observeBatch({
          variant: v.variant,
          mode,
          size: n,
          outcomes: {
            learned: v.labeled - skipped - rejected,
            predicted: n - v.labeled,
            skipped,
            rejected,
          },
          processingSeconds: v.processingSeconds,
          latenciesSeconds: latencies,
          loss: v.running.fadedLoss,
          errorRatio: v.running.fadedError,
        });
        const outsizedSteps = Math.max(0, outsizedOf(model) - track.outsized);
        track.outsized = Math.max(track.outsized, outsizedOf(model));
        m.nonFiniteUpdatesRejected(v.variant, mode, Math.max(0, rejectedSteps - outsizedSteps));
        m.outsizedUpdatesRejected(v.variant, mode, outsizedSteps);
        if (track.detector !== null && v.labeled > 0) {
          let alarms = 0;
          if (v.predictions.length > 0) {
            for (const p of v.predictions) {
              if (p.loss !== undefined && Number.isFinite(p.loss) && track.detector.update(p.loss)) alarms++;
            }
          } else if (Number.isFinite(v.loss) && track.detector.update(v.loss)) {
            alarms++;
          }
          for (let a = 0; a < alarms; a++) m.driftAlarm(v.variant, mode);
        }
        if (model !== undefined && t - track.lastModelAt >= modelEveryMs) {
          track.lastModelAt = t;
          if (X === null) X = r.envelopes.map((e) => e.event.x);
          observeModel(v.variant, model, X);
        }
      }
    },
    flush() {
      if (last === null) return;
      const X = last.envelopes.map((e) => e.event.x);
      for (const v of last.variants) {
        const model = last.models[v.variant];
        if (model !== undefined) observeModel(v.variant, model, X);
      }
    },
  };
}

/** The batch's train-versus-inference gap (src/evaluation), dropout off in both modes. */
function measureTrainInferenceGap(
  predict: (X: Features[], opts?: { training?: boolean }) => number[][],
  X: Features[],
): number {
  const inference = predict(X, { training: false });
  return trainInferenceGap(predict(X, { training: true }), inference);
}

/** Callbacks of `runLivePipeline` that feed the metric catalog. */
export interface LiveMetricsHooks extends Required<
  Pick<KafkaSourceEvents, 'onGroupJoin' | 'onRebalancing' | 'onBatch' | 'onCrash'>
> {
  onResult(r: PrequentialResult): void;
  onCheckpointSaved(ack: CheckpointAck): void;
  /** Whether `onResult` reads each event's prediction (only a drift detector does): see runLivePipeline. */
  resultPredictions: boolean;
}

/**
 * Wire a live Kafka pipeline to the metric catalog: spread the result into `runLivePipeline`'s options.
 * Group joins set the assignment and mark the consumer connected, rebalances and crashes are counted (a crash
 * kafkajs does not restart marks it disconnected), `END_BATCH_PROCESS` lag is exported per partition,
 * every result goes through {@link createInstrumenter} (`mode: 'live'`), and every durable checkpoint resets
 * the checkpoint age. With `readiness`, the same events feed `/readyz` (connected, assigned, keeping up: see
 * {@link LiveReadiness}). Call `metrics.consumerConnectedChanged(false, groupId)` (and
 * `readiness.connected(false)`) after stopping.
 *
 * @example
 * const handle = await runLivePipeline({ ...options, ...liveMetricsHooks(metrics, { groupId: options.groupId }) });
 */
export function liveMetricsHooks(
  metrics: PipelineMetrics | Registry,
  options: Omit<InstrumentOptions, 'mode'> & {
    groupId: string;
    /** The pipeline's `outputTopic`: predictions are counted once the batch's pending publishes settle. */
    outputTopic?: string;
    /** Fed with the consumer's state, lag, progress and checkpoints, for `/readyz`. */
    readiness?: LiveReadiness;
  },
): LiveMetricsHooks {
  const m = metrics instanceof Registry ? pipelineMetricsFor(metrics) : metrics;
  const { groupId, outputTopic, readiness, ...rest } = options;
  const instrumenter = createInstrumenter(m, { ...rest, mode: 'live' });
  m.expectCheckpoints('live');
  m.consumerConnectedChanged(false, groupId);
  readiness?.expectCheckpoints();
  return {
    onGroupJoin(info) {
      m.consumerConnectedChanged(true, info.groupId);
      m.partitionsAssigned(info.assignment);
      readiness?.joined(info.assignment);
    },
    onRebalancing() {
      m.rebalance();
      readiness?.rebalancing();
    },
    onBatch(info) {
      m.consumerLagObserved(info.topic, info.partition, info.offsetLag);
      readiness?.lag(info.topic, info.partition, info.offsetLag);
    },
    onCrash(_error, info) {
      m.consumerCrashed(info.restart);
      if (!info.restart) {
        m.consumerConnectedChanged(false, groupId);
        readiness?.connected(false);
      }
    },
    onResult(r) {
      instrumenter.observe(r);
      readiness?.progress(r.messages);
      const n = r.envelopes.length;
      if (outputTopic !== undefined && n > 0) {
        // A failed publish fails the pipeline itself; here it only means "not published".
        Promise.all(r.pending).then(
          () => m.predictionsPublished(outputTopic, n),
          () => undefined,
        );
      }
    },
    onCheckpointSaved() {
      m.checkpointWritten('live');
      readiness?.checkpointed();
    },
    resultPredictions: rest.drift !== undefined,
  };
}
