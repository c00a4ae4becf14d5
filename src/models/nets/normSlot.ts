import type { Tensor } from '../../core/tensor.js';
import type { Normalizer, NormalizerState } from '../../normalizers/normalizer.js';
import type { Param } from './param.js';
import { restoreNormalizer } from './normalizerFactory.js';

/** Summary of one normalization layer's running statistics, for metrics (drift of BN's running stats). */
export interface NormalizerLayerStats {
  kind: string;
  /** Mean over channels of the running mean (absent when the layer keeps none). */
  runningMeanAvg?: number;
  /** Mean over channels of the running variance. */
  runningVarAvg?: number;
  numBatchesTracked?: number;
  /** Mean over channels of |last training batch mean − running mean| (running mean before that batch's update). */
  runningMeanDrift?: number;
  /** Mean over channels of |last training batch unbiased variance − running variance| (before the update). */
  runningVarianceDrift?: number;
}

/**
 * What each singleton-batch policy does when a batch-statistics normalizer (BatchNorm, BatchRenorm) gets one
 * value per channel in a learning step (an Mlp at batch 1; a WindowNet whose conv output has length 1), for
 * help texts and reports. The policy is the net's `singletonPolicy` option.
 */
export const singletonPolicyDescriptions = {
  error: "throw the normalizer's NormalizationError (as PyTorch does); the model is left unchanged",
  'running-stats':
    'normalize with the running statistics as constants, take the step (γ/β and weights learn), then move the ' +
    'running mean and variance toward the event (exponentially weighted, Finch 2009)',
  skip: 'take no step at all (counted): at batch 1 such a model never learns',
} as const;

/** Kinds whose only state is γ/β, which the optimizer already stages: no snapshot needed. */
const STATELESS = new Set(['layer', 'group']);

/**
 * One normalization position of a net (or none). It owns what the net must do around a normalizer that
 * carries running statistics: snapshot them before a step or a training-mode prediction and put them
 * back (rejected update, side-effect-free prediction), and detect the one-value-per-channel batch that
 * batch statistics cannot normalize.
 */
export class NormSlot {
  /** Set by the net around a learning step, so only training batches feed the drift figures. */
  measuring = false;
  private meanDrift: number | undefined;
  private varDrift: number | undefined;

  constructor(
    readonly prefix: string,
    public norm: Normalizer | null,
  ) {}

  /** True when the layer keeps state besides γ/β (running statistics, counters). */
  get stateful(): boolean {
    return this.norm !== null && !STATELESS.has(this.norm.kind);
  }

  /** A batch-statistics layer seeing `valuesPerChannel` ≤ 1 cannot train (PyTorch raises). */
  singleton(valuesPerChannel: number): boolean {
    return this.norm !== null && !this.norm.perSample && valuesPerChannel <= 1;
  }

  forward(x: Tensor, training: boolean): Tensor {
    if (this.norm === null) return x;
    if (training && this.measuring) this.measureDrift(x);
    const y = this.norm.forward(x, { training });
    // An inference-mode forward inside a learning step is the 'running-stats' singleton policy's step.
    if (!training && this.measuring) this.trackSingleton(x);
    return y;
  }

  /**
   * The 'running-stats' singleton policy's update: a batch of one value per channel was normalized with the
   * running statistics (they are constants of that step, as in inference), and now moves them toward it,
   * so BatchNorm at batch 1 keeps estimating the activations' mean and variance instead of freezing at its
   * initial (0, 1) and degenerating into a fixed affine map. One value has no batch variance, so the
   * running variance follows the exponentially weighted recursion (Finch 2009, "Incremental calculation of
   * weighted mean and variance", §9): with d = x − μ, μ ← μ + α·d, σ² ← (1 − α)·(σ² + α·d²), α the
   * layer's momentum (1/numBatchesTracked when it is null: then it is Welford's running population
   * variance). BatchNorm's numBatchesTracked counts the event.
   */
  private trackSingleton(x: Tensor): void {
    const n = this.norm as Normalizer & {
      runningMean?: unknown;
      runningVar?: unknown;
      momentum?: unknown;
      numBatchesTracked?: unknown;
    };
    const rm = n.runningMean;
    const rv = n.runningVar;
    if (!(rm instanceof Float64Array) || !(rv instanceof Float64Array) || n.perSample) return;
    const [batch, c] = x.shape;
    const l = x.shape.length === 3 ? x.shape[2] : 1;
    const m = batch * l;
    if (rm.length !== c || m < 1) return;
    let alpha: number;
    if (typeof n.numBatchesTracked === 'number') {
      n.numBatchesTracked++;
      alpha = typeof n.momentum === 'number' ? n.momentum : 1 / n.numBatchesTracked;
    } else {
      alpha = typeof n.momentum === 'number' ? n.momentum : 0.1;
    }
    const d = x.data;
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let i = 0; i < batch; i++) for (let t = 0; t < l; t++) s += d[(i * c + j) * l + t];
      const diff = s / m - rm[j];
      rm[j] += alpha * diff;
      rv[j] = (1 - alpha) * (rv[j] + alpha * diff * diff);
    }
  }

  /** Batch statistics against the running ones they are about to move (BN's train/inference mismatch). */
  private measureDrift(x: Tensor): void {
    const n = this.norm as Normalizer & { runningMean?: unknown; runningVar?: unknown };
    const rm = n.runningMean;
    const rv = n.runningVar;
    if (!(rm instanceof Float64Array) || !(rv instanceof Float64Array)) return;
    const [batch, c] = x.shape;
    const l = x.shape.length === 3 ? x.shape[2] : 1;
    const m = batch * l;
    if (rm.length !== c || m < 2) return;
    let dm = 0;
    let dv = 0;
    const d = x.data;
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let i = 0; i < batch; i++) for (let t = 0; t < l; t++) s += d[(i * c + j) * l + t];
      const mean = s / m;
      let q = 0;
      for (let i = 0; i < batch; i++) {
        for (let t = 0; t < l; t++) {
          const e = d[(i * c + j) * l + t] - mean;
          q += e * e;
        }
      }
      dm += Math.abs(mean - rm[j]);
      dv += Math.abs(q / (m - 1) - rv[j]);
    }
    this.meanDrift = dm / c;
    this.varDrift = dv / c;
  }

  backward(dy: Tensor): Tensor {
    return this.norm === null ? dy : this.norm.backward(dy);
  }

  /** Live γ/β with their gradient buffers (re-read every step: a restore replaces the layer). */
  params(): Param[] {
    const n = this.norm;
    if (n === null) return [];
    const out: Param[] = [];
    if (n.params.gamma && n.grads.gamma) {
      out.push({ name: `${this.prefix}.gamma`, value: n.params.gamma, grad: n.grads.gamma, decay: false });
    }
    if (n.params.beta && n.grads.beta) {
      out.push({ name: `${this.prefix}.beta`, value: n.params.beta, grad: n.grads.beta, decay: false });
    }
    return out;
  }

  snapshot(): NormalizerState | null {
    return this.stateful ? this.norm!.state() : null;
  }

  restore(s: NormalizerState | null): void {
    if (s !== null) this.norm = restoreNormalizer(s);
  }

  state(): NormalizerState | null {
    return this.norm === null ? null : this.norm.state();
  }

  stats(): NormalizerLayerStats {
    const n = this.norm as
      (Normalizer & { runningMean?: unknown; runningVar?: unknown; numBatchesTracked?: unknown }) | null;
    if (n === null) return { kind: 'none' };
    const out: NormalizerLayerStats = { kind: n.kind };
    if (n.runningMean instanceof Float64Array && n.runningMean.length > 0)
      out.runningMeanAvg = avg(n.runningMean);
    if (n.runningVar instanceof Float64Array && n.runningVar.length > 0)
      out.runningVarAvg = avg(n.runningVar);
    if (typeof n.numBatchesTracked === 'number') out.numBatchesTracked = n.numBatchesTracked;
    if (this.meanDrift !== undefined) out.runningMeanDrift = this.meanDrift;
    if (this.varDrift !== undefined) out.runningVarianceDrift = this.varDrift;
    return out;
  }
}

function avg(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}
