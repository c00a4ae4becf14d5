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
    return this.norm.forward(x, { training });
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
