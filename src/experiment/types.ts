/**
 * Shapes of the normalization comparison's results (`results.json`, README "Normalization under varying
 * arrival batch sizes"): one row per (normalizer, arrival batch size, arrival order), over `seeds` runs.
 */

/** What the singleton-batch policy did in one cell: how many arrival batches could not be normalized in training mode as given. */
export interface SingletonReport {
  /** The policy the model ran with: 'error' | 'running-stats' | 'skip'. */
  policy: string;
  /** Arrival batches of exactly one event. */
  singletonBatches: number;
  /** Times the normalizer had one value per channel in training mode (N·L = 1) and the policy acted. */
  triggered: number;
  /** Human-readable account, e.g. "not needed: N·L = 14 > 1 per channel" or "used running statistics 812 times". */
  action: string;
}

/** What identifies a row, for ok and failed rows alike. */
export interface CompareRowKey {
  normalizer: string;
  /** Fixed arrival batch size, or a label such as 'poisson:8' for random sizes. */
  batchSize: number | string;
  /** Arrival order: 'iid' | 'recorded' | 'bursty:R' | 'keyed:R'. */
  arrival: string;
  /** Events per optimizer step (gradients accumulated over arrival batches), or 'arrival' (one step per batch). */
  stepEvents: number | 'arrival';
  /** Adam's learning rate the row ran with (chosen by the tuning run under `--lr auto`). */
  lr: number;
  seeds: number;
}

/** A row whose runs all finished: the means over seeds, their spread and intervals. */
export interface CompareRowOk extends CompareRowKey {
  status: 'ok';
  /** Mean arrival batch size actually seen (equals batchSize when fixed). */
  meanBatchSize: number;
  /** Events per run (prequential predictions scored). */
  events: number;
  /** Optimizer steps per run (counted by the model), mean over seeds. */
  steps: number;
  /** Mean prequential log loss (natural log) over events, averaged over seeds. */
  loss: number;
  /** 1 − prequential accuracy, averaged over seeds. */
  error: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  lossStd: number;
  errorStd: number;
  /** Half-widths of the 95 % t-intervals of the mean over seeds; null with one seed (no spread to speak of). */
  errorCi95: number | null;
  lossCi95: number | null;
  /** Error and log loss over the events after the first `warmup` (meta.warmup). */
  errorAfterWarmup: number;
  lossAfterWarmup: number;
  /** Balanced error: 1 − mean per-class recall (the honest figure when one class is rare). */
  balancedError: number;
  /** Error of always answering the majority class of the run's events, mean over seeds. */
  baselineError: number;
  /** Log loss of always answering the class frequencies of the run's events (their entropy, nats), mean over seeds. */
  baselineLoss: number;
  /** Average precision (area under the precision-recall curve) of class 1, binary streams only. */
  auprc?: number;
  /**
   * Anomaly streams (the sensor stream): anomaly episodes of the recorded stream (runs of anomalous events
   * of one key), the share detected (any of an episode's events predicted anomalous), and predicted
   * anomalies among normal events per 1,000 events; means over seeds with 95 % t half-widths.
   */
  episodes?: number;
  episodeRecall?: number;
  episodeRecallCi95?: number | null;
  falseAlarmsPer1000?: number;
  falseAlarmsPer1000Ci95?: number | null;
  /**
   * Paired differences against BatchNorm at the same batch size, arrival order and seeds (this row minus
   * BatchNorm's, negative = better than BatchNorm), with 95 % t half-widths over the seed pairs.
   */
  errorDiffVsBatch?: number;
  errorDiffVsBatchCi95?: number | null;
  lossDiffVsBatch?: number;
  lossDiffVsBatchCi95?: number | null;
  /** Events per second of the prequential loop (predict + learn), mean over seeds. */
  eventsPerSecond: number;
  /** Mean |p_train − p_infer| (total variation over classes), dropout off in both; 0 for per-sample normalizers. */
  trainEvalGap: number;
  /** The same gap as KL(p_train ‖ p_infer) in nats. */
  trainEvalKl: number;
  /** Same gap over the last quarter of the stream, once the running statistics had time to settle. */
  trainEvalGapLate: number;
  singleton: SingletonReport;
  /** Updates the model rejected as non-finite, summed over seeds. */
  rejectedUpdates: number;
}

/** A row where at least one run failed: its reason, and no numbers (never zeros that read as results). */
export interface CompareRowFailed extends CompareRowKey {
  status: 'failed';
  reason: string;
}

export type CompareRow = CompareRowOk | CompareRowFailed;

export function isOkRow(r: CompareRow): r is CompareRowOk {
  return r.status === 'ok';
}

export interface CompareMeta {
  source: string;
  /** Events of the first draw (every draw of a bundled dataset has the same count). */
  events: number;
  shape: number[];
  classes: number;
  /** Majority-class rate of the first draw: the error of always predicting the most frequent label. */
  baselineError: number;
  model: Record<string, unknown>;
  normalizers: string[];
  batchSizes: string[];
  arrivals: string[];
  stepEvents: number | 'arrival';
  /** Leading events excluded from the `AfterWarmup` scores. */
  warmup: number;
  /** 'auto' (per row, the best of `lrGrid` on a tuning draw) or the fixed rate. */
  lr: number | 'auto';
  lrGrid?: number[];
  /** Where the tuning runs' data came from (under `--lr auto`). */
  lrTuning?: string;
  /** How the data varies over seeds. */
  draws: string;
  seeds: number;
  jobs: number;
  wallSeconds: number;
  date: string;
  node: string;
}

export interface CompareResult {
  meta: CompareMeta;
  rows: CompareRow[];
}
