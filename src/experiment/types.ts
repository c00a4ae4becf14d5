/**
 * Shapes of the normalization comparison's results (`results.json`, README "Normalization under varying
 * arrival batch sizes"): one row per (normalizer, arrival batch size), averaged over seeds.
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

/** One row of results.json: a normalizer at an arrival batch size, averaged over `seeds` runs. */
export interface CompareRow {
  normalizer: string;
  /** Fixed arrival batch size, or a label such as 'poisson:8' for random sizes. */
  batchSize: number | string;
  /** Mean arrival batch size actually seen (equals batchSize when fixed). */
  meanBatchSize: number;
  seeds: number;
  /** Events per run (prequential predictions scored). */
  events: number;
  /** Mean prequential log loss (natural log) over events, averaged over seeds. */
  loss: number;
  /** 1 − prequential accuracy, averaged over seeds. */
  error: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  lossStd: number;
  errorStd: number;
  /** Balanced error: 1 − mean per-class recall (the honest figure when one class is rare). */
  balancedError: number;
  /** Events per second of the prequential loop (predict + learn), mean over seeds. */
  eventsPerSecond: number;
  /** Mean |p_train − p_infer| (total variation over classes), dropout off in both; 0 for per-sample normalizers. */
  trainEvalGap: number;
  /** Same gap over the last quarter of the stream, once the running statistics had time to settle. */
  trainEvalGapLate: number;
  singleton: SingletonReport;
  /** Updates the model rejected as non-finite, summed over seeds. */
  rejectedUpdates: number;
  /** Set when the runs failed; the numbers are then NaN-free placeholders (0) and must not be read. */
  failed?: string;
}

export interface CompareMeta {
  source: string;
  events: number;
  shape: number[];
  classes: number;
  /** Majority-class rate: the error of always predicting the most frequent label. */
  baselineError: number;
  model: Record<string, unknown>;
  normalizers: string[];
  batchSizes: string[];
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
