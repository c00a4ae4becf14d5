/**
 * Synchronized BatchNorm across replicas (PyTorch's `SyncBatchNorm`, torch/nn/modules/_functions.py): a
 * {@link BatchNorm} whose training-mode statistics are pooled through an asynchronous {@link StepExchange} (in
 * process, or a Kafka topic: `KafkaExchange`). It is not a second BatchNorm: it sends the layer's local
 * contribution, awaits the peers', pools them in replica order and hands the pooled result to the layer through its
 * {@link StatisticsReducer} seam for the one forward (or backward) that uses it.
 */
import type { Tensor } from '../core/tensor.js';
import { SyncError } from '../errors.js';
import type { BatchNorm } from '../normalizers/batchNorm.js';
import type { ForwardOptions } from '../normalizers/normalizer.js';
import { poolGradientSums, poolMoments, type StatisticsReducer } from '../normalizers/statisticsReducer.js';
import type { StepExchange } from './stepExchange.js';

/** A reducer that answers with statistics pooled beforehand (one call, for one forward or backward). */
function pooledAlready(moments: Float64Array | null, sums: Float64Array | null): StatisticsReducer {
  return {
    poolMoments: () => {
      if (moments === null) throw new SyncError('SyncBatchNorm: no pooled moments for this forward');
      return moments;
    },
    poolGradients: () => {
      if (sums === null) throw new SyncError('SyncBatchNorm: no pooled sums for this backward');
      return sums;
    },
  };
}

/**
 * Replica `exchange.replica` of a synchronized BatchNorm: every replica calls `forward` then `backward` once per
 * training step, in step order; inference-mode forwards exchange nothing (they use the running statistics, or
 * this replica's own batch when the layer keeps none, as PyTorch's SyncBatchNorm). With the
 * same parameters everywhere, N replicas' outputs and input gradients equal one BatchNorm's over their
 * concatenated batches, their running statistics are that BatchNorm's, and the sum of their γ/β gradients is its
 * γ/β gradient (test/property/syncBatchNorm.test.ts).
 *
 * @example
 * const group = new InMemoryExchange(2);
 * const [a, b] = [0, 1].map((i) => new SyncBatchNorm(new BatchNorm({ channels: 3 }), group.member(i)));
 * const [ya, yb] = await Promise.all([a.forward(xa), b.forward(xb)]);
 */
export class SyncBatchNorm {
  /** Training steps taken (the next forward's step number). */
  step = 0;
  /** Whether the last forward used batch statistics (so its backward pools too). */
  private pooledForward = false;

  constructor(
    readonly bn: BatchNorm,
    readonly exchange: StepExchange,
  ) {}

  async forward(x: Tensor, opts: ForwardOptions = {}): Promise<Tensor> {
    const training = opts.training ?? true;
    if (!training) {
      this.pooledForward = false;
      return this.bn.forward(x, opts);
    }
    const local = this.bn.localMoments(x);
    const parts = await this.exchange.exchange(this.step, 'forward', local);
    this.step++;
    const y = this.withReducer(pooledAlready(poolMoments(parts), null), () => this.bn.forward(x, opts));
    this.pooledForward = true;
    return y;
  }

  async backward(dy: Tensor): Promise<Tensor> {
    if (!this.pooledForward) return this.bn.backward(dy);
    const local = this.bn.localGradientSums(dy);
    const parts = await this.exchange.exchange(this.step - 1, 'backward', local);
    return this.withReducer(pooledAlready(null, poolGradientSums(parts)), () => this.bn.backward(dy));
  }

  private withReducer<T>(reducer: StatisticsReducer, run: () => T): T {
    const before = this.bn.reducer;
    this.bn.reducer = reducer;
    try {
      return run();
    } finally {
      this.bn.reducer = before;
    }
  }
}
