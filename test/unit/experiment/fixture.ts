import type { CompareResult, CompareRow } from '../../../src/experiment/types.js';

/**
 * A hand-built result: BatchNorm and LayerNorm at fixed sizes 1, 4, 16 and one Poisson cell each, under two
 * arrival orders (iid, bursty:8); LayerNorm at 16 under bursty:8 failed.
 */
export function sampleResult(): CompareResult {
  const row = (
    arrival: string,
    normalizer: string,
    batchSize: number | string,
    meanBatchSize: number,
    error: number,
    gap: number,
  ): CompareRow => ({
    normalizer,
    batchSize,
    arrival,
    stepEvents: 16,
    lr: 0.01,
    seeds: 3,
    status: 'ok',
    meanBatchSize,
    events: 1000,
    steps: 62,
    loss: error * 2,
    error,
    lossStd: 0.01,
    errorStd: 0.02,
    errorCi95: 0.0497,
    lossCi95: 0.0248,
    errorAfterWarmup: error - 0.01,
    lossAfterWarmup: error * 2 - 0.01,
    balancedError: error + 0.05,
    baselineError: 0.5,
    baselineLoss: Math.log(2),
    auprc: 1 - error,
    ...(normalizer === 'batch'
      ? {}
      : {
          errorDiffVsBatch: -0.1,
          errorDiffVsBatchCi95: 0.03,
          lossDiffVsBatch: -0.2,
          lossDiffVsBatchCi95: 0.5,
        }),
    eventsPerSecond: 12345,
    trainEvalGap: gap,
    trainEvalKl: gap / 3,
    trainEvalGapLate: gap / 2,
    singleton: {
      policy: 'running-stats',
      singletonBatches: batchSize === 1 ? 1000 : 0,
      triggered: 0,
      action: 'not needed: N·L = 14 > 1 per channel',
    },
    rejectedUpdates: 0,
  });
  const rows: CompareRow[] = [];
  for (const arrival of ['iid', 'bursty:8']) {
    const shift = arrival === 'iid' ? 0 : 0.05;
    rows.push(
      row(arrival, 'batch', 1, 1, 0.4 + shift, 0.2),
      row(arrival, 'batch', 4, 4, 0.3 + shift, 0.1),
      row(arrival, 'batch', 16, 16, 0.2 + shift, 0.05),
      row(arrival, 'batch', 'poisson:8', 7.9, 0.25 + shift, 0.08),
      row(arrival, 'layer', 1, 1, 0.15, 0),
      row(arrival, 'layer', 4, 4, 0.16, 0),
      arrival === 'iid'
        ? row(arrival, 'layer', 16, 16, 0.17, 0)
        : {
            normalizer: 'layer',
            batchSize: 16,
            arrival,
            stepEvents: 16,
            lr: 0.01,
            seeds: 3,
            status: 'failed',
            reason: 'seed 2: something "quoted" broke',
          },
      row(arrival, 'layer', 'poisson:8', 8.1, 0.16, 0),
    );
  }
  return {
    meta: {
      source: 'dataset synthetic, "quoted", a,b',
      events: 1000,
      shape: [3, 32],
      classes: 2,
      baselineError: 0.5,
      model: { hidden: 8 },
      normalizers: ['batch', 'layer'],
      batchSizes: ['1', '4', '16', 'poisson:8'],
      arrivals: ['iid', 'bursty:8'],
      stepEvents: 16,
      warmup: 200,
      lr: 0.01,
      draws: 'each seed draws the dataset anew',
      seeds: 3,
      jobs: 2,
      wallSeconds: 1.5,
      date: '2026-01-01T00:00:00.000Z',
      node: 'v20',
    },
    rows,
  };
}
