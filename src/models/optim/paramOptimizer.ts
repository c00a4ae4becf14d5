import { ModelError } from '../../errors.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { validateOptimizerConfig, type OptimizerKeys } from './createOptimizer.js';
import type { OptimizerConfig } from './optimizer.js';
import { Sgd } from './sgd.js';

/** What a net takes: SGD (schedules, momentum, Nesterov), AdaGrad or Adam, with the rate always given. */
export type NetOptimizerSpec = Extract<OptimizerConfig, { type: 'sgd' | 'adagrad' | 'adam' }> & {
  lr: number;
};

export const netOptimizerKeys: OptimizerKeys = {
  sgd: ['type', 'lr', 'schedule', 'powerT', 'momentum', 'nesterov'],
  adagrad: ['type', 'lr', 'eps'],
  adam: ['type', 'lr', 'beta1', 'beta2', 'eps'],
};

/** A parameter tensor as the optimizer sees it (a net's `Param`). */
export interface ParamTensor {
  readonly value: Float64Array;
  readonly grad: Float64Array;
  /** Whether decoupled weight decay applies to it. */
  readonly decay: boolean;
}

/** JSON state of a {@link ParamOptimizer}: per tensor, its optimizer's first and second state arrays. */
export interface NetOptimizerState {
  spec: NetOptimizerSpec;
  lr: number;
  t: number;
  sizes: number[];
  /** SGD's momentum buffer, Adam's m, AdaGrad's G (empty when the optimizer keeps none). */
  m: number[][];
  /** Adam's v (empty otherwise). */
  v: number[][];
  /** Gradients accumulated but not yet stepped (absent when none are pending). */
  pending?: { weight: number; sums: number[][] };
}

/** Checks a net's optimizer spec, naming the bad field; returns it unchanged. */
export function validateNetOptimizer(spec: NetOptimizerSpec): NetOptimizerSpec {
  if (spec === null || typeof spec !== 'object')
    throw new ModelError(`optimizer: expected an object, got ${String(spec)}`);
  if (typeof spec.lr !== 'number' || !Number.isFinite(spec.lr) || spec.lr <= 0) {
    throw new ModelError(`optimizer.lr: expected a finite number > 0, got ${String(spec.lr)}`);
  }
  validateOptimizerConfig(spec, netOptimizerKeys);
  return spec;
}

type TensorOptimizer = Sgd | Adagrad | Adam;

/**
 * The optimizer stack of `src/models/optim` over a net's parameter tensors: one optimizer of the spec per
 * tensor (the `Optimizer.step` calling convention, coordinates 0..size), sharing the step counter, which this
 * class owns. It knows nothing of the loss or its penalties (the net adds those to the gradients) except
 * decoupled weight decay, which by definition is not a gradient: tensors marked `decay` get the optimizer
 * with `weightDecay` (AdamW for Adam).
 *
 * The net runs `step` under the shared NonFiniteGuard over the parameters and `moments()`; when the guard
 * restores them, `rewind()` puts the step counter back too, so a rejected step leaves no trace.
 */
export class ParamOptimizer {
  readonly spec: NetOptimizerSpec;
  private t = 0;
  private readonly sizes: number[];
  private readonly opts: TensorOptimizer[];
  /** Gradient accumulation: per tensor, the weighted sum of the gradients handed to {@link accumulate}. */
  private readonly acc: Float64Array[];
  private accWeight = 0;

  constructor(spec: NetOptimizerSpec, params: readonly ParamTensor[], weightDecay = 0) {
    this.spec = validateNetOptimizer(spec);
    if (!Number.isFinite(weightDecay) || weightDecay < 0)
      throw new ModelError(`weightDecay: expected a finite number >= 0, got ${weightDecay}`);
    this.sizes = params.map((p) => p.value.length);
    this.opts = params.map((p) => {
      const wd = p.decay ? weightDecay : 0;
      const o =
        spec.type === 'sgd'
          ? new Sgd({ ...spec, weightDecay: wd })
          : spec.type === 'adagrad'
            ? new Adagrad({ ...spec, weightDecay: wd })
            : new Adam({ ...spec, weightDecay: wd });
      o.init(p.value.length);
      return o;
    });
    this.acc = params.map((p) => new Float64Array(p.value.length));
  }

  /**
   * Adds `weight`·grad of every tensor to the accumulator (gradient accumulation: several arrival batches,
   * one step). `weight` is the batch's share, usually its number of events, so {@link loadAccumulated}
   * gives the gradient of the mean loss over every accumulated event.
   */
  accumulate(params: readonly ParamTensor[], weight: number): void {
    this.checkCount(params);
    if (!Number.isFinite(weight) || weight <= 0)
      throw new ModelError(`accumulate: weight must be a finite number > 0, got ${weight}`);
    for (let p = 0; p < params.length; p++) {
      const a = this.acc[p];
      const g = params[p].grad;
      for (let i = 0; i < a.length; i++) a[i] += weight * g[i];
    }
    this.accWeight += weight;
  }

  /** Total weight accumulated since the last {@link loadAccumulated} (0 = nothing pending). */
  get pending(): number {
    return this.accWeight;
  }

  /** Writes the weighted mean of the accumulated gradients into every tensor's grad and empties the accumulator. */
  loadAccumulated(params: readonly ParamTensor[]): void {
    this.checkCount(params);
    if (this.accWeight === 0) throw new ModelError('loadAccumulated: no gradient accumulated');
    const inv = 1 / this.accWeight;
    for (let p = 0; p < params.length; p++) {
      const a = this.acc[p];
      const g = params[p].grad;
      for (let i = 0; i < a.length; i++) g[i] = a[i] * inv;
      a.fill(0);
    }
    this.accWeight = 0;
  }

  private checkCount(params: readonly ParamTensor[]): void {
    if (params.length !== this.opts.length) {
      throw new ModelError(`optimizer: expected ${this.opts.length} parameter tensors, got ${params.length}`);
    }
  }

  /** Number of steps taken (Adam's t). */
  get steps(): number {
    return this.t;
  }

  /** Base learning rate (early stopping may lower it). */
  get lr(): number {
    return this.opts.length === 0 ? this.spec.lr : this.opts[0].lr;
  }

  set lr(lr: number) {
    if (!Number.isFinite(lr) || lr <= 0) throw new ModelError(`lr: expected a finite number > 0, got ${lr}`);
    for (const o of this.opts) o.setLearningRate(lr);
  }

  /** One update of every parameter tensor from its `grad`. */
  step(params: readonly ParamTensor[]): void {
    this.checkCount(params);
    this.t++;
    for (let p = 0; p < params.length; p++) {
      const w = params[p].value;
      this.opts[p].step(this.t, w, params[p].grad, w.length, null, 0);
    }
  }

  /** The optimizers' per-coordinate statistics (for the guard to snapshot with the parameters). */
  moments(): Float64Array[] {
    return this.opts.flatMap((o) => o.stateArrays()).filter((a) => a.length > 0);
  }

  /** Undoes the step counter of a step whose values the guard restored. */
  rewind(): void {
    this.t--;
  }

  state(): NetOptimizerState {
    const arrays = this.opts.map((o) => o.stateArrays());
    return {
      spec: { ...this.spec },
      lr: this.lr,
      t: this.t,
      sizes: [...this.sizes],
      m: arrays.map((a) => (a[0] === undefined ? [] : Array.from(a[0]))),
      v: arrays.map((a) => (a[1] === undefined ? [] : Array.from(a[1]))),
      ...(this.accWeight === 0
        ? {}
        : { pending: { weight: this.accWeight, sums: this.acc.map((a) => Array.from(a)) } }),
    };
  }

  /** Loads a state saved by an optimizer of the same spec over the same tensor sizes. */
  restore(s: NetOptimizerState): void {
    if (s.spec?.type !== this.spec.type || !sameSizes(s.sizes, this.sizes)) {
      throw new ModelError(
        `optimizer state (${String(s.spec?.type)} over [${String(s.sizes)}]) does not match ${this.spec.type} over [${this.sizes.join(',')}]`,
      );
    }
    this.opts.forEach((o, p) => {
      const own = o.stateArrays();
      const saved = [s.m[p], s.v[p]];
      own.forEach((a, k) => {
        const from = saved[k];
        if (!Array.isArray(from) || from.length !== a.length) {
          throw new ModelError(`optimizer state: tensor ${p} array ${k} must have ${a.length} numbers`);
        }
        a.set(from);
      });
    });
    this.lr = s.lr;
    this.t = s.t;
    this.acc.forEach((a) => a.fill(0));
    this.accWeight = 0;
    if (s.pending !== undefined) {
      const { weight, sums } = s.pending;
      if (!Number.isFinite(weight) || weight <= 0 || !Array.isArray(sums) || sums.length !== this.acc.length)
        throw new ModelError('optimizer state: pending gradients do not match the parameter tensors');
      this.acc.forEach((a, p) => {
        if (!Array.isArray(sums[p]) || sums[p].length !== a.length)
          throw new ModelError(
            `optimizer state: pending gradients of tensor ${p} must have ${a.length} numbers`,
          );
        a.set(sums[p]);
      });
      this.accWeight = weight;
    }
  }
}

function sameSizes(a: unknown, b: number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
}
