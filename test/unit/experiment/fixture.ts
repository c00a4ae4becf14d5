import type { CompareResult, CompareRow } from '../../../src/experiment/types.js';

/** A hand-built result: two normalizers at fixed sizes 1, 4, 16 and one Poisson cell each. */
export function sampleResult(): CompareResult {
  const row = (
    normalizer: string,
    batchSize: number | string,
    meanBatchSize: number,
    error: number,
    gap: number,
  ): CompareRow => ({
    normalizer,
    batchSize,
    meanBatchSize,
    seeds: 3,
    events: 1000,
    loss: error * 2,
    error,
    lossStd: 0.01,
    errorStd: 0.02,
    balancedError: error + 0.05,
    eventsPerSecond: 12345,
    trainEvalGap: gap,
    trainEvalGapLate: gap / 2,
    singleton: {
      policy: 'running-stats',
      singletonBatches: batchSize === 1 ? 1000 : 0,
      triggered: 0,
      action: 'not needed: N·L = 14 > 1 per channel',
    },
    rejectedUpdates: 0,
  });
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
      seeds: 3,
      jobs: 2,
      wallSeconds: 1.5,
      date: '2026-01-01T00:00:00.000Z',
      node: 'v20',
    },
    rows: [
      row('batch', 1, 1, 0.4, 0.2),
      row('batch', 4, 4, 0.3, 0.1),
      row('batch', 16, 16, 0.2, 0.05),
      row('batch', 'poisson:8', 7.9, 0.25, 0.08),
      row('layer', 1, 1, 0.15, 0),
      row('layer', 4, 4, 0.16, 0),
      row('layer', 16, 16, 0.17, 0),
      row('layer', 'poisson:8', 8.1, 0.16, 0),
    ],
  };
}
