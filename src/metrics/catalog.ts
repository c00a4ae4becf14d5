import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BoundCounter, BoundGauge, BoundHistogram } from './boundSeries.js';
import { ConfigError } from '../errors.js';
import type { WeightStats } from '../models/types.js';
import { readinessFromChecks, type ReadinessReport } from './readiness.js';
import { VERSION } from '../version.js';

/** `live` = consuming Kafka now; `replay` = a recorded stream fed straight into the models. */
export type PipelineMode = 'live' | 'replay';

/**
 * What happened to one event in one model variant (the `outcome` label of `streamnorm_events_total`):
 * - `learned`: predicted, then learned (it had a label);
 * - `predicted`: predicted only (no label);
 * - `skipped`: neither, because the singleton-batch policy is `'skip'`;
 * - `rejected`: predicted, but the update would have made a weight non-finite, so the model kept its state.
 * Malformed messages never reach a variant: they are counted in `streamnorm_dead_letters_total`.
 */
export type EventOutcome = 'learned' | 'predicted' | 'skipped' | 'rejected';
export const EVENT_OUTCOMES: readonly EventOutcome[] = ['learned', 'predicted', 'skipped', 'rejected'];

/** Dead-letter reasons known in advance (zero-initialised so rate() and alerts see the first one). */
export const KNOWN_DEAD_LETTER_REASONS: readonly string[] = [
  'bad_json',
  'bad_shape',
  'non_finite',
  'oversized',
  'bad_label',
];

/** A variant's series that every batch moves, bound once (boundSeries.ts) instead of hashed per update. */
interface VariantSeries {
  events: Record<EventOutcome, BoundCounter<'variant' | 'outcome' | 'mode'>>;
  batchSize: BoundHistogram<VariantLabels>;
  processingSeconds: BoundHistogram<VariantLabels>;
  eventToPredictionSeconds: BoundHistogram<VariantLabels>;
  prequentialLoss: BoundGauge<VariantLabels>;
  prequentialErrorRatio: BoundGauge<VariantLabels>;
  nonFiniteUpdatesRejected: BoundCounter<VariantLabels>;
  outsizedUpdatesRejected: BoundCounter<VariantLabels>;
}

/** The entry of `label` and `mode` in a two-level map, made by `make` the first time. */
function perLabelAndMode<V>(
  map: Map<string, Map<PipelineMode, V>>,
  label: string,
  mode: PipelineMode,
  make: () => V,
): V {
  let modes = map.get(label);
  if (modes === undefined) map.set(label, (modes = new Map()));
  let v = modes.get(mode);
  if (v === undefined) modes.set(mode, (v = make()));
  return v;
}

/** One processed batch of one variant, as {@link PipelineMetrics.observeBatch} records it. */
export interface BatchObservation {
  variant: string;
  mode: PipelineMode;
  /** Events in the batch (the `streamnorm_batch_size` observation). */
  size: number;
  /** Events per outcome; they should add up to `size`. */
  outcomes: Partial<Record<EventOutcome, number>>;
  /** Wall time spent predicting and learning the batch. */
  processingSeconds?: number;
  /** Per event: prediction time minus the time the pipeline received the event. */
  latenciesSeconds?: ArrayLike<number>;
  /** Running prequential loss of the variant after this batch (finite, ≥ 0). */
  loss?: number;
  /** Running prequential error (1 − accuracy) of the variant after this batch, in [0, 1]. */
  errorRatio?: number;
}

/**
 * Statistics of a net's normalization layer(s), for the BatchNorm failure modes the project studies.
 * `runningMeanDrift` / `runningVarianceDrift`: how far the last training batch's statistics were from
 * the running estimates (mean absolute difference over channels); `trainInferenceGap`: mean absolute
 * difference between outputs in training and inference mode (0 for per-sample normalizers).
 */
export interface NormalizerStats {
  runningMeanDrift?: number;
  runningVarianceDrift?: number;
  trainInferenceGap?: number;
}

/** What {@link PipelineMetrics.observeModel} reads from a model (every `OnlineModel` has `weightStats`). */
export interface ObservableModel {
  weightStats(): WeightStats;
  normalizerStats?(): NormalizerStats;
}

/** Options for {@link PipelineMetrics}. */
export interface PipelineMetricsOptions {
  /** Clock in ms since the epoch (checkpoint age, readiness). Default `Date.now`; tests inject one. */
  now?: () => number;
}

/** Options for {@link PipelineMetrics.readiness}. */
export interface ReadinessOptions {
  /** Require a connected consumer with at least one assigned partition (live mode). Default true. */
  requireConsumer?: boolean;
  /** A checkpoint older than this (or none within this long of {@link PipelineMetrics.expectCheckpoints}) is not recent. Default 300. */
  maxCheckpointAgeSeconds?: number;
}

const SECONDS_BUCKETS_FAST = [
  0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
];
const SECONDS_BUCKETS_LATENCY = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

type VariantLabels = 'variant' | 'mode';

/**
 * The metric catalog (docs/monitoring.md), created on an injected `Registry` (never the global one).
 *
 * Every part of the pipeline gets this object and reports through its methods; the metric objects are
 * public too, for anything the methods do not cover. Names follow Prometheus practice (`streamnorm_`
 * prefix, base units, `_total` counters, low-cardinality labels) so `promtool check metrics` is clean.
 * Counters of a variant are created at zero as soon as the variant is first seen, so `increase()`
 * in alert rules sees the very first increment.
 */
export class PipelineMetrics {
  readonly registry: Registry;

  readonly eventsTotal: Counter<'variant' | 'outcome' | 'mode'>;
  readonly batchSize: Histogram<VariantLabels>;
  readonly processingSeconds: Histogram<VariantLabels>;
  readonly eventToPredictionSeconds: Histogram<VariantLabels>;
  readonly prequentialLoss: Gauge<VariantLabels>;
  readonly prequentialErrorRatio: Gauge<VariantLabels>;
  readonly weightNorm: Gauge<VariantLabels | 'norm'>;
  readonly weightSparsityRatio: Gauge<VariantLabels>;
  readonly weightCount: Gauge<VariantLabels>;
  readonly normalizerRunningMeanDrift: Gauge<VariantLabels>;
  readonly normalizerRunningVarianceDrift: Gauge<VariantLabels>;
  readonly normalizerTrainInferenceGap: Gauge<VariantLabels>;
  readonly driftAlarmsTotal: Counter<VariantLabels>;
  readonly nonFiniteUpdatesRejectedTotal: Counter<VariantLabels>;
  readonly outsizedUpdatesRejectedTotal: Counter<VariantLabels>;
  readonly lastEventTimestampSeconds: Gauge<'topic' | 'mode'>;
  readonly deadLettersTotal: Counter<'reason' | 'topic' | 'mode'>;
  readonly predictionsPublishedTotal: Counter<'topic'>;
  readonly consumerLag: Gauge<'consumergroup' | 'topic' | 'partition'>;
  readonly consumerConnected: Gauge<'group'>;
  readonly consumerAssignedPartitions: Gauge<'topic'>;
  readonly rebalancesTotal: Counter;
  readonly crashesTotal: Counter<'restart'>;
  readonly checkpointsTotal: Counter<'outcome' | 'mode'>;
  readonly checkpointDurationSeconds: Histogram<'mode'>;
  readonly lastCheckpointTimestampSeconds: Gauge<'mode'>;
  readonly checkpointAgeSeconds: Gauge<'mode'>;
  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly checkpointFallbacksTotal: Counter<'mode'>;

  private readonly now: () => number;
  /** Per variant and mode: its registered series, bound for the per-batch updates (see boundSeries.ts). */
  private readonly variantSeries = new Map<string, Map<PipelineMode, VariantSeries>>();
  /** Per topic and mode: the latest event time's series, bound. */
  private readonly topicSeries = new Map<string, Map<PipelineMode, BoundGauge<'topic' | 'mode'>>>();
  private readonly seenDeadLetterScopes = new Set<string>();
  /** Per mode: ms of the last durable checkpoint, or of expectCheckpoints() while there is none. */
  private readonly checkpointClock = new Map<PipelineMode, number>();
  private connected = false;
  /** The group of the last consumer that reported (kafka_exporter's `consumergroup` label on lag). */
  private consumerGroup = '';
  private readonly assignment = new Map<string, number[]>();

  constructor(registry: Registry, options: PipelineMetricsOptions = {}) {
    if (registry === undefined || registry === null || typeof registry.metrics !== 'function') {
      throw new ConfigError(`PipelineMetrics needs a prom-client Registry, got ${String(registry)}`);
    }
    this.registry = registry;
    this.now = options.now ?? Date.now;
    const registers = [registry];
    const variantLabels: VariantLabels[] = ['variant', 'mode'];

    this.eventsTotal = new Counter({
      name: 'streamnorm_events_total',
      help: 'Events processed per model variant, by outcome (learned, predicted, skipped, rejected).',
      labelNames: ['variant', 'outcome', 'mode'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'streamnorm_batch_size',
      help: 'Events per batch handed to a model variant (after rebatching).',
      labelNames: variantLabels,
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.processingSeconds = new Histogram({
      name: 'streamnorm_processing_duration_seconds',
      help: 'Wall time a model variant spends predicting and learning one batch.',
      labelNames: variantLabels,
      buckets: SECONDS_BUCKETS_FAST,
      registers,
    });
    this.eventToPredictionSeconds = new Histogram({
      name: 'streamnorm_event_to_prediction_latency_seconds',
      help: 'Time from the pipeline receiving an event to its prediction being made, per event.',
      labelNames: variantLabels,
      buckets: SECONDS_BUCKETS_LATENCY,
      registers,
    });
    this.prequentialLoss = new Gauge({
      name: 'streamnorm_prequential_loss',
      help: 'Prequential (predict-then-learn) loss of a model variant, exponentially faded so it follows the current stream.',
      labelNames: variantLabels,
      registers,
    });
    this.prequentialErrorRatio = new Gauge({
      name: 'streamnorm_prequential_error_ratio',
      help: 'Prequential error (1 - accuracy) of a classifier variant, exponentially faded, between 0 and 1.',
      labelNames: variantLabels,
      registers,
    });
    this.weightNorm = new Gauge({
      name: 'streamnorm_weight_norm',
      help: 'Norm of the weights of a model variant (norm="l1" or "l2"); the intercept is excluded.',
      labelNames: ['variant', 'mode', 'norm'],
      registers,
    });
    this.weightSparsityRatio = new Gauge({
      name: 'streamnorm_weight_sparsity_ratio',
      help: 'Fraction of the weights of a model variant that are exactly zero.',
      labelNames: variantLabels,
      registers,
    });
    this.weightCount = new Gauge({
      name: 'streamnorm_weights',
      help: 'Number of weights of a model variant.',
      labelNames: variantLabels,
      registers,
    });
    this.normalizerRunningMeanDrift = new Gauge({
      name: 'streamnorm_normalizer_running_mean_drift',
      help: 'Mean absolute difference between the last training batch mean and the running mean (BatchNorm-style layers).',
      labelNames: variantLabels,
      registers,
    });
    this.normalizerRunningVarianceDrift = new Gauge({
      name: 'streamnorm_normalizer_running_variance_drift',
      help: 'Mean absolute difference between the last training batch variance and the running variance.',
      labelNames: variantLabels,
      registers,
    });
    this.normalizerTrainInferenceGap = new Gauge({
      name: 'streamnorm_normalizer_train_inference_gap',
      help: 'Mean total variation between class probabilities in training and in inference mode, dropout off (0 for per-sample normalizers).',
      labelNames: variantLabels,
      registers,
    });
    this.driftAlarmsTotal = new Counter({
      name: 'streamnorm_drift_alarms_total',
      help: 'Concept drift alarms raised by the drift detector on the prequential loss of a variant.',
      labelNames: variantLabels,
      registers,
    });
    this.nonFiniteUpdatesRejectedTotal = new Counter({
      name: 'streamnorm_nonfinite_updates_rejected_total',
      help: 'Model updates rejected because they would have made a weight non-finite.',
      labelNames: variantLabels,
      registers,
    });
    this.outsizedUpdatesRejectedTotal = new Counter({
      name: 'streamnorm_outsized_updates_rejected_total',
      help: "Model updates rejected because their step was out of proportion to the model's recent steps (step guard).",
      labelNames: variantLabels,
      registers,
    });
    this.lastEventTimestampSeconds = new Gauge({
      name: 'streamnorm_last_event_timestamp_seconds',
      help: 'Event time (ts) of the latest event seen, in seconds since the epoch.',
      labelNames: ['topic', 'mode'],
      registers,
    });
    this.deadLettersTotal = new Counter({
      name: 'streamnorm_dead_letters_total',
      help: 'Messages sent to the dead-letter sink instead of a model, by reason.',
      labelNames: ['reason', 'topic', 'mode'],
      registers,
    });
    this.predictionsPublishedTotal = new Counter({
      name: 'streamnorm_predictions_published_total',
      help: 'Predictions published to the output topic and acknowledged by the broker (at least once).',
      labelNames: ['topic'],
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'streamnorm_consumer_lag',
      help: 'Messages between the high watermark and the last processed offset, per partition (kafkajs offsetLag).',
      labelNames: ['consumergroup', 'topic', 'partition'],
      registers,
    });
    this.buildInfo = new Gauge({
      name: 'streamnorm_build_info',
      help: 'Always 1; its labels name the streamnorm version and the Node.js version of this process.',
      labelNames: ['version', 'node'],
      registers,
    });
    this.buildInfo.set({ version: VERSION, node: process.versions.node }, 1);
    this.consumerConnected = new Gauge({
      name: 'streamnorm_consumer_connected',
      help: '1 while the Kafka consumer of the group is connected and running, else 0.',
      labelNames: ['group'],
      registers,
    });
    this.consumerAssignedPartitions = new Gauge({
      name: 'streamnorm_consumer_assigned_partitions',
      help: 'Partitions currently assigned to this consumer, per topic.',
      labelNames: ['topic'],
      registers,
    });
    this.rebalancesTotal = new Counter({
      name: 'streamnorm_consumer_rebalances_total',
      help: 'Consumer group rebalances seen by this consumer.',
      registers,
    });
    this.crashesTotal = new Counter({
      name: 'streamnorm_consumer_crashes_total',
      help: 'Kafka consumer crashes, by whether kafkajs restarts the consumer.',
      labelNames: ['restart'],
      registers,
    });
    this.checkpointsTotal = new Counter({
      name: 'streamnorm_checkpoints_total',
      help: 'Checkpoint attempts (model state and offsets written together), by outcome (ok or error).',
      labelNames: ['outcome', 'mode'],
      registers,
    });
    this.checkpointDurationSeconds = new Histogram({
      name: 'streamnorm_checkpoint_duration_seconds',
      help: 'Time to write one durable checkpoint (serialise, fsync, rename).',
      labelNames: ['mode'],
      buckets: SECONDS_BUCKETS_FAST,
      registers,
    });
    this.lastCheckpointTimestampSeconds = new Gauge({
      name: 'streamnorm_last_checkpoint_timestamp_seconds',
      help: 'Wall time of the last durable checkpoint, in seconds since the epoch.',
      labelNames: ['mode'],
      registers,
    });
    const clocks = this.checkpointClock;
    const now = this.now;
    this.checkpointAgeSeconds = new Gauge({
      name: 'streamnorm_checkpoint_age_seconds',
      help: 'Seconds since the last durable checkpoint (or since checkpointing started, if none yet); computed at scrape.',
      labelNames: ['mode'],
      registers,
      collect() {
        const t = now();
        for (const [mode, since] of clocks) {
          this.set({ mode }, Math.max(0, (t - since) / 1000));
        }
      },
    });
    this.checkpointFallbacksTotal = new Counter({
      name: 'streamnorm_checkpoint_fallbacks_total',
      help: 'Loads that found the newest checkpoint damaged or missing and resumed from the previous one.',
      labelNames: ['mode'],
      registers,
    });
    this.rebalancesTotal.inc(0);
    for (const restart of ['true', 'false']) this.crashesTotal.inc({ restart }, 0);
  }

  /**
   * Create the zero series of a variant (called by every observe* method; call it early so
   * dashboards and `increase()` see the variant before its first batch).
   */
  registerVariant(variant: string, mode: PipelineMode): void {
    this.seriesOf(variant, mode);
  }

  /** {@link registerVariant}, returning the variant's bound series. */
  private seriesOf(variant: string, mode: PipelineMode): VariantSeries {
    // Looked up first: the factory closure is made only for a new variant, not per batch.
    return (
      this.variantSeries.get(variant)?.get(mode) ??
      perLabelAndMode(this.variantSeries, variant, mode, () => this.bindVariant(variant, mode))
    );
  }

  /** A new variant's series: validated, registered (zero where it has none yet) and bound. */
  private bindVariant(variant: string, mode: PipelineMode): VariantSeries {
    checkLabel('variant', variant);
    checkMode(mode);
    const labels = { variant, mode };
    const series: VariantSeries = {
      events: {
        learned: new BoundCounter(this.eventsTotal, { variant, outcome: 'learned', mode }),
        predicted: new BoundCounter(this.eventsTotal, { variant, outcome: 'predicted', mode }),
        skipped: new BoundCounter(this.eventsTotal, { variant, outcome: 'skipped', mode }),
        rejected: new BoundCounter(this.eventsTotal, { variant, outcome: 'rejected', mode }),
      },
      batchSize: new BoundHistogram(this.batchSize, labels),
      processingSeconds: new BoundHistogram(this.processingSeconds, labels),
      eventToPredictionSeconds: new BoundHistogram(this.eventToPredictionSeconds, labels),
      prequentialLoss: new BoundGauge(this.prequentialLoss, labels),
      prequentialErrorRatio: new BoundGauge(this.prequentialErrorRatio, labels),
      nonFiniteUpdatesRejected: new BoundCounter(this.nonFiniteUpdatesRejectedTotal, labels),
      outsizedUpdatesRejected: new BoundCounter(this.outsizedUpdatesRejectedTotal, labels),
    };
    for (const outcome of EVENT_OUTCOMES) series.events[outcome].inc(0);
    this.driftAlarmsTotal.inc({ variant, mode }, 0);
    series.nonFiniteUpdatesRejected.inc(0);
    series.outsizedUpdatesRejected.inc(0);
    return series;
  }

  /** Record one processed batch of one variant. */
  observeBatch(b: BatchObservation): void {
    const series = this.seriesOf(b.variant, b.mode);
    if (!Number.isInteger(b.size) || b.size < 0) {
      throw new ConfigError(`observeBatch: size must be a non-negative integer, got ${b.size}`);
    }
    if (b.size > 0) series.batchSize.observe(b.size);
    for (const outcome of EVENT_OUTCOMES) {
      const n = b.outcomes[outcome] ?? 0;
      if (n > 0) series.events[outcome].inc(n);
    }
    if (b.processingSeconds !== undefined && Number.isFinite(b.processingSeconds)) {
      series.processingSeconds.observe(Math.max(0, b.processingSeconds));
    }
    if (b.latenciesSeconds !== undefined) {
      // Runs of equal latencies (one fetched run's events, predicted together) are observed at once.
      const l = b.latenciesSeconds;
      for (let i = 0; i < l.length;) {
        const s = l[i];
        let j = i + 1;
        while (j < l.length && l[j] === s) j++;
        if (Number.isFinite(s)) series.eventToPredictionSeconds.observeRepeated(Math.max(0, s), j - i);
        i = j;
      }
    }
    // A non-finite running loss is never exported: it would poison every rule over the series.
    if (b.loss !== undefined && Number.isFinite(b.loss)) series.prequentialLoss.set(b.loss);
    if (b.errorRatio !== undefined && Number.isFinite(b.errorRatio)) {
      series.prequentialErrorRatio.set(b.errorRatio);
    }
  }

  /**
   * Read a model's weight statistics and, for nets, its normalizer statistics. O(weights): call it per
   * batch or on a timer, not per event. (Rejected updates are counted by {@link nonFiniteUpdatesRejected}.)
   */
  observeModel(variant: string, mode: PipelineMode, model: ObservableModel): void {
    this.registerVariant(variant, mode);
    const labels = { variant, mode };
    const ws = model.weightStats();
    if (Number.isFinite(ws.l1)) this.weightNorm.set({ ...labels, norm: 'l1' }, ws.l1);
    if (Number.isFinite(ws.l2)) this.weightNorm.set({ ...labels, norm: 'l2' }, ws.l2);
    if (Number.isFinite(ws.sparsity)) this.weightSparsityRatio.set(labels, ws.sparsity);
    if (Number.isFinite(ws.count)) this.weightCount.set(labels, ws.count);
    if (typeof model.normalizerStats === 'function')
      this.observeNormalizer(variant, mode, model.normalizerStats());
  }

  /** `n` model updates were rejected because they would have made a weight non-finite. */
  nonFiniteUpdatesRejected(variant: string, mode: PipelineMode, n = 1): void {
    const series = this.seriesOf(variant, mode);
    if (Number.isFinite(n) && n > 0) series.nonFiniteUpdatesRejected.inc(n);
  }

  /** `n` model updates were rejected by the step guard as out of proportion to the recent steps. */
  outsizedUpdatesRejected(variant: string, mode: PipelineMode, n = 1): void {
    const series = this.seriesOf(variant, mode);
    if (Number.isFinite(n) && n > 0) series.outsizedUpdatesRejected.inc(n);
  }

  /** A load resumed from the previous checkpoint because the newest was damaged or missing. */
  checkpointFallback(mode: PipelineMode): void {
    checkMode(mode);
    this.checkpointFallbacksTotal.inc({ mode });
  }

  /** Record normalizer statistics of a variant (missing or non-finite fields are left as they were). */
  observeNormalizer(variant: string, mode: PipelineMode, s: NormalizerStats): void {
    const labels = { variant, mode };
    if (s.runningMeanDrift !== undefined && Number.isFinite(s.runningMeanDrift)) {
      this.normalizerRunningMeanDrift.set(labels, s.runningMeanDrift);
    }
    if (s.runningVarianceDrift !== undefined && Number.isFinite(s.runningVarianceDrift)) {
      this.normalizerRunningVarianceDrift.set(labels, s.runningVarianceDrift);
    }
    if (s.trainInferenceGap !== undefined && Number.isFinite(s.trainInferenceGap)) {
      this.normalizerTrainInferenceGap.set(labels, s.trainInferenceGap);
    }
  }

  /** A drift detector raised an alarm for a variant. */
  driftAlarm(variant: string, mode: PipelineMode): void {
    this.registerVariant(variant, mode);
    this.driftAlarmsTotal.inc({ variant, mode });
  }

  /** Latest event time seen (ms since the epoch, the event's `ts`). */
  eventSeen(tsMs: number, topic: string, mode: PipelineMode): void {
    if (!Number.isFinite(tsMs)) return;
    const gauge =
      this.topicSeries.get(topic)?.get(mode) ??
      perLabelAndMode(
        this.topicSeries,
        topic,
        mode,
        () => new BoundGauge(this.lastEventTimestampSeconds, { topic, mode }),
      );
    gauge.set(tsMs / 1000);
  }

  /** A message went to dead letters. */
  deadLetter(reason: string, topic: string, mode: PipelineMode): void {
    checkLabel('reason', reason);
    const scope = `${topic}\u0000${mode}`;
    if (!this.seenDeadLetterScopes.has(scope)) {
      this.seenDeadLetterScopes.add(scope);
      for (const r of KNOWN_DEAD_LETTER_REASONS) this.deadLettersTotal.inc({ reason: r, topic, mode }, 0);
    }
    this.deadLettersTotal.inc({ reason, topic, mode });
  }

  /** Predictions published to the output topic. */
  predictionsPublished(topic: string, n = 1): void {
    this.predictionsPublishedTotal.inc({ topic }, n);
  }

  // ---- Kafka consumer (kafkajs instrumentation events, wired by the Kafka source) ----

  /**
   * CONNECT / DISCONNECT / STOP of the consumer of `group`. The series exists only once a consumer
   * reports, so a replay (no consumer at all) never looks like a consumer that is down.
   */
  consumerConnectedChanged(connected: boolean, group: string): void {
    checkLabel('group', group);
    this.connected = connected;
    this.consumerGroup = group;
    this.consumerConnected.set({ group }, connected ? 1 : 0);
    if (!connected) this.partitionsAssigned({});
  }

  /** GROUP_JOIN: the partitions now assigned (`memberAssignment`: topic → partitions). */
  partitionsAssigned(assignment: Record<string, readonly number[]>): void {
    for (const [topic, partitions] of this.assignment) {
      const now = assignment[topic] ?? [];
      for (const p of partitions) {
        if (!now.includes(p))
          this.consumerLag.remove({ consumergroup: this.consumerGroup, topic, partition: String(p) });
      }
      if (assignment[topic] === undefined) this.consumerAssignedPartitions.set({ topic }, 0);
    }
    this.assignment.clear();
    for (const [topic, partitions] of Object.entries(assignment)) {
      this.assignment.set(topic, [...partitions]);
      this.consumerAssignedPartitions.set({ topic }, partitions.length);
    }
  }

  /** REBALANCING. */
  rebalance(): void {
    this.rebalancesTotal.inc();
  }

  /** CRASH (`restart`: whether kafkajs restarts the consumer itself). */
  consumerCrashed(restart: boolean): void {
    this.crashesTotal.inc({ restart: String(restart) });
  }

  /** END_BATCH_PROCESS: `offsetLag` is a decimal string in kafkajs (int64). */
  consumerLagObserved(topic: string, partition: number, offsetLag: string | number): void {
    const lag = Number(offsetLag);
    if (Number.isFinite(lag)) {
      this.consumerLag.set(
        { consumergroup: this.consumerGroup, topic, partition: String(partition) },
        Math.max(0, lag),
      );
    }
  }

  // ---- checkpoints ----

  /** Checkpointing is on for `mode`: the age counts from now until the first checkpoint. */
  expectCheckpoints(mode: PipelineMode): void {
    checkMode(mode);
    if (!this.checkpointClock.has(mode)) this.checkpointClock.set(mode, this.now());
    this.checkpointsTotal.inc({ outcome: 'ok', mode }, 0);
    this.checkpointsTotal.inc({ outcome: 'error', mode }, 0);
    this.checkpointFallbacksTotal.inc({ mode }, 0);
  }

  /** A checkpoint became durable (after the rename). */
  checkpointWritten(mode: PipelineMode, durationSeconds?: number): void {
    this.expectCheckpoints(mode);
    const t = this.now();
    this.checkpointClock.set(mode, t);
    this.checkpointsTotal.inc({ outcome: 'ok', mode });
    this.lastCheckpointTimestampSeconds.set({ mode }, t / 1000);
    if (durationSeconds !== undefined && Number.isFinite(durationSeconds)) {
      this.checkpointDurationSeconds.observe({ mode }, Math.max(0, durationSeconds));
    }
  }

  /** A checkpoint attempt failed (the previous one stays the durable one). */
  checkpointFailed(mode: PipelineMode): void {
    this.expectCheckpoints(mode);
    this.checkpointsTotal.inc({ outcome: 'error', mode });
  }

  /**
   * Readiness from what the metrics already know: consumer connected, partitions assigned, and the
   * last checkpoint recent (for every mode with checkpointing on).
   *
   * @deprecated A quiet topic has no new checkpoint, so this turns not ready on a healthy idle consumer after
   * `maxCheckpointAgeSeconds`. Use {@link LiveReadiness} (fed by `liveMetricsHooks({ readiness })`) or
   * {@link ReplayReadiness}, which `run`, `main` and `replay` serve on `/readyz`.
   */
  readiness(options: ReadinessOptions = {}): ReadinessReport {
    const maxAge = options.maxCheckpointAgeSeconds ?? 300;
    if (!Number.isFinite(maxAge) || maxAge <= 0) {
      throw new ConfigError(`maxCheckpointAgeSeconds must be a positive number, got ${maxAge}`);
    }
    const checks: Record<string, boolean> = {};
    if (options.requireConsumer ?? true) {
      checks.connected = this.connected;
      let assigned = 0;
      for (const ps of this.assignment.values()) assigned += ps.length;
      checks.partitionsAssigned = assigned > 0;
    }
    const t = this.now();
    let recent = true;
    for (const since of this.checkpointClock.values()) {
      if ((t - since) / 1000 > maxAge) recent = false;
    }
    checks.checkpointRecent = recent;
    return readinessFromChecks(checks);
  }
}

function checkLabel(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(`metric label ${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
}

function checkMode(mode: string): void {
  if (mode !== 'live' && mode !== 'replay') {
    throw new ConfigError(`mode must be 'live' or 'replay', got ${JSON.stringify(mode)}`);
  }
}
