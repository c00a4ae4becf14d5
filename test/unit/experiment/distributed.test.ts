/**
 * The distributed comparison's cells: synchronized BatchNorm over N data-parallel replicas trains the same model
 * as one BatchNorm over the concatenated batch (same predictions, loss to 1e-9), while per-replica BatchNorm on
 * fully skewed partitions (each holding one class) does not; the partitions are class-correlated as asked.
 */
import { describe, expect, it } from 'vitest';
import {
  runDistributedCell,
  skewedPartitions,
  type DistributedCellOptions,
} from '../../../src/experiment/distributed.js';

const base: DistributedCellOptions = {
  variant: 'batch',
  replicas: 3,
  batch: 2,
  seed: 3,
  events: 600,
  skew: 1,
  features: 5,
  classes: 3,
  hidden: 6,
  lr: 0.1,
};

describe('distributed comparison', () => {
  it('skew 1 puts every event in its class’s partition; skew 0 spreads classes over partitions', () => {
    const skewed = skewedPartitions(base);
    skewed.forEach((p, i) => expect(p.every((e) => e.y % 3 === i)).toBe(true));
    const iid = skewedPartitions({ ...base, skew: 0 });
    iid.forEach((p) => expect(new Set(p.map((e) => e.y)).size).toBe(3));
  });

  it('synchronized BatchNorm = one BatchNorm over the concatenated batch; per-replica BatchNorm differs', async () => {
    const synced = await runDistributedCell({ ...base, variant: 'syncbatch' });
    const reference = await runDistributedCell({ ...base, variant: 'batch@all' });
    const perReplica = await runDistributedCell({ ...base, variant: 'batch' });
    expect(synced.steps).toBe(reference.steps);
    expect(synced.events).toBe(reference.events);
    expect(synced.error).toBe(reference.error);
    expect(Math.abs(synced.loss - reference.loss)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(perReplica.loss - reference.loss)).toBeGreaterThan(1e-3);
  });
});
