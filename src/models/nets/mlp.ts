import type { Tensor } from '../../core/tensor.js';
import { normalizerTraits, parseNormalizerSpec } from '../../normalizers/descriptors.js';
import { ModelError } from '../../errors.js';
import type { Features } from '../types.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import { heNormalInit, xavierUniformInit } from './init.js';
import { checkNormalizerSpec, makeNormalizer } from './normalizerFactory.js';
import { NormSlot } from './normSlot.js';
import type { Param } from './param.js';
import {
  type NetOptions,
  type NetState,
  SoftmaxNet,
  checkKnownOptions,
  checkRate,
  resolveNetOptions,
} from './softmaxNet.js';

export interface MlpOptions extends NetOptions {
  /** Input dimension d of the dense vectors. */
  inputs: number;
  /** Widths of the hidden layers [[16]]; `[]` is multinomial logistic regression. */
  hidden?: number[];
}

/**
 * A multilayer perceptron classifier for dense vectors `[d]`:
 * (dense → normalizer → ReLU → dropout) per hidden layer → dense → softmax.
 *
 * Dropout rates may differ per layer (Srivastava et al. 2014 use more on wider layers); the normalizer
 * sees `[N, H]`, so BatchNorm's statistics are over the N events of the batch alone and a one-event
 * batch cannot train it (the singleton policy decides), while LayerNorm (Ba et al. 2016) and GroupNorm
 * (Wu & He 2018) normalize each event by itself. InstanceNorm has no length axis to normalize here and is
 * rejected at construction.
 *
 * @example
 * const mlp = new Mlp({ inputs: 10, hidden: [32, 16], dropout: [0.3, 0.1], normalizer: 'layer', classes: 3, seed: 1 });
 * mlp.learnOne(x, 2);
 */
export class Mlp extends SoftmaxNet {
  readonly kind = 'Mlp';
  readonly inputs: number;
  readonly hidden: readonly number[];
  readonly dropoutRates: readonly number[];
  private readonly given: MlpOptions;
  private readonly layers: Dense[];
  private readonly slots: NormSlot[];
  private readonly drops: Dropout[];
  private readonly out: Dense;
  private reluMasks: Uint8Array[];

  constructor(options: MlpOptions) {
    super(resolveNetOptions(options));
    const o = options;
    checkKnownOptions('Mlp', o, ['inputs', 'hidden']);
    if (typeof o.inputs !== 'number' || !Number.isInteger(o.inputs) || o.inputs < 1) {
      throw new ModelError(`inputs: expected an integer >= 1, got ${String(o.inputs)}`);
    }
    this.inputs = o.inputs;
    const hidden = o.hidden ?? [16];
    if (!Array.isArray(hidden))
      throw new ModelError(`hidden: expected an array of layer widths, got ${typeof hidden}`);
    hidden.forEach((h, i) => {
      if (typeof h !== 'number' || !Number.isInteger(h) || h < 1) {
        throw new ModelError(`hidden[${i}]: expected an integer >= 1, got ${String(h)}`);
      }
    });
    this.hidden = [...hidden];
    const d = o.dropout ?? 0;
    if (Array.isArray(d)) {
      if (d.length !== hidden.length) {
        throw new ModelError(
          `dropout: expected one rate per hidden layer (${hidden.length}), got ${d.length}`,
        );
      }
      this.dropoutRates = d.map((r, i) => checkRate(`dropout[${i}]`, r));
    } else {
      const r = checkRate('dropout', d);
      this.dropoutRates = hidden.map(() => r);
    }
    const spec = checkNormalizerSpec(this.opts.normalizer);
    if (normalizerTraits(spec).needsWindows) {
      throw new ModelError(
        `normalizer: '${spec}' normalizes over a length axis, which Mlp's [N, H] activations lack`,
      );
    }
    const { groups, ws } = parseNormalizerSpec(spec);
    if (typeof groups === 'number') {
      hidden.forEach((h, i) => {
        if (h % groups !== 0)
          throw new ModelError(`normalizer: '${spec}' needs hidden[${i}] (${h}) divisible by ${groups}`);
      });
    }
    this.given = { ...o };
    this.layers = [];
    this.slots = [];
    this.drops = [];
    let fanIn = this.inputs;
    hidden.forEach((h, i) => {
      const layer = new Dense(fanIn, h, { standardize: ws === true });
      heNormalInit(this.rng, fanIn, layer.weight);
      this.layers.push(layer);
      this.slots.push(new NormSlot(`norm${i}`, makeNormalizer(spec, { channels: h }, this.opts.seed)));
      this.drops.push(new Dropout(this.dropoutRates[i]));
      fanIn = h;
    });
    this.out = new Dense(fanIn, this.classes);
    xavierUniformInit(this.rng, fanIn, this.classes, this.out.weight);
    this.reluMasks = hidden.map(() => new Uint8Array(0));
    this.initOptimizer();
  }

  static fromState(s: NetState): Mlp {
    return SoftmaxNet.restore(s, 'Mlp', (o) => new Mlp(o as unknown as MlpOptions));
  }

  protected optionsForState(): Record<string, unknown> {
    return JSON.parse(JSON.stringify(this.given)) as Record<string, unknown>;
  }

  protected layerParams(): Param[] {
    const out: Param[] = [];
    this.layers.forEach((l, i) => {
      out.push({ name: `dense${i}.weight`, value: l.weight, grad: l.weightGrad, decay: true });
      out.push({ name: `dense${i}.bias`, value: l.bias, grad: l.biasGrad, decay: false });
    });
    out.push({ name: 'out.weight', value: this.out.weight, grad: this.out.weightGrad, decay: true });
    out.push({ name: 'out.bias', value: this.out.bias, grad: this.out.biasGrad, decay: false });
    return out;
  }

  protected normSlots(): NormSlot[] {
    return this.slots;
  }

  protected valuesPerChannel(n: number): number {
    return n;
  }

  protected encode(X: Features[], field: string): Tensor {
    const d = this.inputs;
    const n = X.length;
    const data = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const name = field === 'x' ? 'x' : `${field}[${i}]`;
      const x = X[i];
      if (!(Array.isArray(x) || x instanceof Float64Array)) {
        throw new ModelError(
          `${name}: Mlp takes dense vectors of ${d} numbers, got ${x === null ? 'null' : typeof x} (sparse inputs: use LinearModel)`,
        );
      }
      if (x.length !== d)
        throw new ModelError(`${name}: wrong dimension: expected ${d} features, got ${x.length}`);
      for (let j = 0; j < d; j++) {
        const v = x[j];
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new ModelError(`${name}[${j}]: expected a finite number, got ${String(v)}`);
        data[i * d + j] = v;
      }
    }
    return { data, shape: [n, d] };
  }

  protected forwardLogits(x: Tensor, normTraining: boolean, dropout: boolean): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const z = this.layers[i].forward(h);
      this.guardFinite(z);
      const a = this.slots[i].forward(z, normTraining);
      const size = a.data.length;
      if (this.reluMasks[i].length < size) this.reluMasks[i] = new Uint8Array(size);
      const mask = this.reluMasks[i];
      const r = new Float64Array(size);
      for (let j = 0; j < size; j++) {
        const v = a.data[j];
        mask[j] = v > 0 ? 1 : 0;
        r[j] = v > 0 ? v : 0;
      }
      h = this.drops[i].forward({ data: r, shape: a.shape }, dropout, this.rng);
    }
    return this.out.forward(h);
  }

  protected backwardLogits(dlogits: Tensor): void {
    let g = this.out.backward(dlogits);
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const dr = this.drops[i].backward(g);
      const mask = this.reluMasks[i];
      const da = new Float64Array(dr.data.length);
      for (let j = 0; j < da.length; j++) da[j] = mask[j] === 1 ? dr.data[j] : 0;
      const dz = this.slots[i].backward({ data: da, shape: dr.shape });
      g = this.layers[i].backward(dz);
    }
  }
}
