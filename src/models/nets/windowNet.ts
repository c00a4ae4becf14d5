import type { Tensor } from '../../core/tensor.js';
import { normalizerTraits, parseNormalizerSpec } from '../../normalizers/descriptors.js';
import { ModelError } from '../../errors.js';
import { type AugmentOptions, WindowAugmenter, type WindowAugmenterState } from '../augment.js';
import type { Features } from '../types.js';
import { Conv1d } from './conv1d.js';
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

export interface WindowNetOptions extends NetOptions {
  /** Channels C of the `[C, L]` windows. */
  inChannels: number;
  /** Time steps L per window. */
  length: number;
  /** Conv output channels H [16]. */
  hidden?: number;
  /** Conv kernel width K ≤ L [3]; the normalizer sees `[N, H, L − K + 1]`. */
  kernel?: number;
  /** Window augmentation for training inputs (off unless a magnitude is set). */
  augment?: AugmentOptions;
}

/**
 * A small 1-D convolutional classifier for `[C, L]` windows:
 * conv1d → normalizer → ReLU → dropout → global average pool → dense → softmax.
 *
 * Global average pooling (Lin et al. 2014, "Network in Network") keeps the head independent of L and
 * the parameter count small; the normalizer sits where BatchNorm sits in ResNets (after the conv, before
 * the non-linearity, Ioffe & Szegedy 2015), so swapping it for Layer/Instance/Group norm (Ba et al. 2016;
 * Ulyanov et al. 2016; Wu & He 2018) compares like with like. Weights: He-normal for the conv (feeds a
 * ReLU), Xavier-uniform for the head, zero biases, all drawn from the seeded RNG.
 *
 * Inputs are `number[][]` windows (C rows of L) or flat arrays of C·L values in channel-major order.
 *
 * @example
 * const net = new WindowNet({ inChannels: 2, length: 16, hidden: 8, kernel: 3, normalizer: 'layer', classes: 2, seed: 1 });
 * net.learnMany(windows, labels); // one step on the batch
 * net.predictProbaOne(windows[0]); // [p0, p1], inference mode
 */
export class WindowNet extends SoftmaxNet {
  readonly kind = 'WindowNet';
  readonly inChannels: number;
  readonly length: number;
  readonly hidden: number;
  readonly kernel: number;
  readonly dropoutRate: number;
  private readonly given: WindowNetOptions;
  private readonly conv: Conv1d;
  private readonly slot: NormSlot;
  private readonly drop: Dropout;
  private readonly out: Dense;
  private augmenter: WindowAugmenter;
  private reluMask = new Uint8Array(0);

  constructor(options: WindowNetOptions) {
    super(resolveNetOptions(options));
    const o = options;
    checkKnownOptions('WindowNet', o, ['inChannels', 'length', 'hidden', 'kernel', 'augment']);
    const posInt = (field: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new ModelError(`${field}: expected an integer >= 1, got ${String(v)}`);
      }
      return v;
    };
    this.inChannels = posInt('inChannels', o.inChannels);
    this.length = posInt('length', o.length);
    this.hidden = posInt('hidden', o.hidden ?? 16);
    this.kernel = posInt('kernel', o.kernel ?? 3);
    if (this.kernel > this.length) {
      throw new ModelError(`kernel: ${this.kernel} is wider than the window length ${this.length}`);
    }
    const d = o.dropout ?? 0;
    if (Array.isArray(d) && d.length !== 1) {
      throw new ModelError(`dropout: WindowNet has one hidden layer, so one rate, got ${d.length}`);
    }
    this.dropoutRate = checkRate('dropout', Array.isArray(d) ? d[0] : d);
    const spec = checkNormalizerSpec(this.opts.normalizer);
    const lo = this.length - this.kernel + 1;
    if (normalizerTraits(spec).needsWindows && lo < 2) {
      throw new ModelError(
        `normalizer: '${spec}' needs a conv output length > 1, got ${lo} (length ${this.length}, kernel ${this.kernel})`,
      );
    }
    const { groups, ws } = parseNormalizerSpec(spec);
    if (typeof groups === 'number' && this.hidden % groups !== 0) {
      throw new ModelError(`normalizer: '${spec}' needs hidden (${this.hidden}) divisible by ${groups}`);
    }
    this.given = { ...o };
    this.conv = new Conv1d(this.inChannels, this.hidden, this.kernel, { standardize: ws === true });
    heNormalInit(this.rng, this.inChannels * this.kernel, this.conv.weight);
    this.slot = new NormSlot(
      'norm',
      makeNormalizer(spec, { channels: this.hidden, length: lo }, this.opts.seed),
    );
    this.drop = new Dropout(this.dropoutRate);
    this.out = new Dense(this.hidden, this.classes);
    xavierUniformInit(this.rng, this.hidden, this.classes, this.out.weight);
    this.augmenter = new WindowAugmenter({ ...o.augment, seed: o.augment?.seed ?? this.opts.seed + 1 });
    this.initOptimizer();
  }

  static fromState(s: NetState): WindowNet {
    const net = SoftmaxNet.restore(s, 'WindowNet', (o) => new WindowNet(o as unknown as WindowNetOptions));
    net.augmenter = WindowAugmenter.fromState(s.augmenter as WindowAugmenterState);
    return net;
  }

  protected override extraState(): Record<string, unknown> {
    return { augmenter: this.augmenter.state() };
  }

  protected optionsForState(): Record<string, unknown> {
    return JSON.parse(JSON.stringify(this.given)) as Record<string, unknown>;
  }

  protected layerParams(): Param[] {
    return [
      { name: 'conv.weight', value: this.conv.weight, grad: this.conv.weightGrad, decay: true },
      { name: 'conv.bias', value: this.conv.bias, grad: this.conv.biasGrad, decay: false },
      { name: 'out.weight', value: this.out.weight, grad: this.out.weightGrad, decay: true },
      { name: 'out.bias', value: this.out.bias, grad: this.out.biasGrad, decay: false },
    ];
  }

  protected normSlots(): NormSlot[] {
    return [this.slot];
  }

  protected valuesPerChannel(n: number): number {
    return n * (this.length - this.kernel + 1);
  }

  protected override augment(x: Tensor): Tensor {
    return this.augmenter.apply(x);
  }

  protected encode(X: Features[], field: string): Tensor {
    const c = this.inChannels;
    const l = this.length;
    const n = X.length;
    const data = new Float64Array(n * c * l);
    for (let i = 0; i < n; i++) {
      const name = field === 'x' ? 'x' : `${field}[${i}]`;
      const x = X[i];
      const base = i * c * l;
      if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0])) {
        const rows = x as number[][];
        if (rows.length !== c)
          throw new ModelError(`${name}: wrong dimension: expected ${c} channels, got ${rows.length}`);
        for (let ch = 0; ch < c; ch++) {
          const row = rows[ch];
          if (!Array.isArray(row) || row.length !== l) {
            throw new ModelError(
              `${name}[${ch}]: wrong dimension: expected ${l} time steps, got ${Array.isArray(row) ? row.length : String(row)}`,
            );
          }
          for (let t = 0; t < l; t++) {
            const v = row[t];
            if (typeof v !== 'number' || !Number.isFinite(v))
              throw new ModelError(`${name}[${ch}][${t}]: expected a finite number, got ${String(v)}`);
            data[base + ch * l + t] = v;
          }
        }
      } else if (Array.isArray(x) || x instanceof Float64Array) {
        const flat = x as ArrayLike<unknown>;
        if (flat.length !== c * l) {
          throw new ModelError(
            `${name}: wrong dimension: expected a [${c}, ${l}] window (or ${c * l} values), got ${flat.length} values`,
          );
        }
        for (let j = 0; j < c * l; j++) {
          const v = flat[j];
          if (typeof v !== 'number' || !Number.isFinite(v))
            throw new ModelError(`${name}[${j}]: expected a finite number, got ${String(v)}`);
          data[base + j] = v;
        }
      } else {
        throw new ModelError(
          `${name}: expected a [${c}, ${l}] window, got ${x === null ? 'null' : typeof x}`,
        );
      }
    }
    return { data, shape: [n, c, l] };
  }

  protected forwardLogits(x: Tensor, normTraining: boolean, dropout: boolean): Tensor {
    const z = this.conv.forward(x);
    this.guardFinite(z);
    const a = this.slot.forward(z, normTraining);
    const size = a.data.length;
    if (this.reluMask.length < size) this.reluMask = new Uint8Array(size);
    const mask = this.reluMask;
    const r = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const v = a.data[i];
      mask[i] = v > 0 ? 1 : 0;
      r[i] = v > 0 ? v : 0;
    }
    const dr = this.drop.forward({ data: r, shape: a.shape }, dropout, this.rng);
    const [n, h, lo] = a.shape;
    const g = new Float64Array(n * h);
    for (let j = 0; j < n * h; j++) {
      let s = 0;
      for (let t = 0; t < lo; t++) s += dr.data[j * lo + t];
      g[j] = s / lo;
    }
    return this.out.forward({ data: g, shape: [n, h] });
  }

  protected backwardLogits(dlogits: Tensor): void {
    const dg = this.out.backward(dlogits);
    const n = dlogits.shape[0];
    const h = this.hidden;
    const lo = this.length - this.kernel + 1;
    const dd = new Float64Array(n * h * lo);
    for (let j = 0; j < n * h; j++) {
      const v = dg.data[j] / lo;
      for (let t = 0; t < lo; t++) dd[j * lo + t] = v;
    }
    const dr = this.drop.backward({ data: dd, shape: [n, h, lo] });
    const da = new Float64Array(dr.data.length);
    const mask = this.reluMask;
    for (let i = 0; i < da.length; i++) da[i] = mask[i] === 1 ? dr.data[i] : 0;
    const dz = this.slot.backward({ data: da, shape: [n, h, lo] });
    this.conv.backward(dz);
  }
}
