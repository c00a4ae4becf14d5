import type { Tensor } from '../../core/tensor.js';
import { normalizerTraits, parseNormalizerSpec } from '../../normalizers/descriptors.js';
import { ModelError } from '../../errors.js';
import type { Features } from '../types.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import { xavierUniformInit } from './init.js';
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

export interface RnnOptions extends NetOptions {
  /** Channels C of the `[C, L]` windows: the input size of each time step. */
  inChannels: number;
  /** Time steps L per window: the number of recurrent steps. */
  length: number;
  /** Hidden units H of the recurrent cell [32]. */
  hidden?: number;
  /**
   * What the classifier reads ['mean']: `'mean'` the average of the hidden states h₁..h_L over the window,
   * `'last'` the last state h_L only.
   */
  readout?: RnnReadout;
}

/** The Rnn's readouts: the mean of the hidden states over time, or the last state. */
export const rnnReadouts = ['mean', 'last'] as const;
export type RnnReadout = (typeof rnnReadouts)[number];

/**
 * An Elman recurrent classifier for `[C, L]` windows (Elman 1990), read one time step (one column) at a
 * time, with a normalizer on each step's pre-activation:
 *
 *   h₀ = 0,  hₜ = tanh(normₜ(W_x·xₜ + W_h·hₜ₋₁ + b)),  t = 1..L,   logits = dense(dropout(h̄)),
 *
 * with h̄ = (h₁ + … + h_L)/L (`readout: 'mean'`, the default) or h̄ = h_L (`'last'`). The mean gives the head a
 * path of length 1 to every step's state; with the last state alone, a 32-step window of the synthetic stream
 * stayed at chance (docs/nets.md).
 *
 * Each time step has its own normalization layer (its own γ/β and, for BatchNorm, its own running
 * statistics), as in recurrent BatchNorm (Laurent et al. 2016, Cooijmans et al. 2017: statistics per time
 * step, since the pre-activations' distribution changes along the sequence). That is where BatchNorm is
 * "unfriendly to recurrent nets": every step's statistics come from the N events of the batch alone, and
 * inference uses L separate running estimates. LayerNorm (Ba et al. 2016, introduced for exactly this case)
 * normalizes each event's H pre-activations by themselves. The normalizer sees `[N, H]` per step, so specs
 * that need a length axis (instance) are refused. Weights: Xavier-uniform for W_x, W_h and the head, zero
 * biases, from the seeded RNG. Backpropagation through time over the whole window.
 *
 * Inputs are `number[][]` windows (C rows of L) or flat arrays of C·L values in channel-major order.
 *
 * @example
 * const rnn = new Rnn({ inChannels: 3, length: 24, hidden: 32, normalizer: 'layer', classes: 2, seed: 1 });
 * rnn.learnMany(windows, labels); // one step on the batch (BPTT over the 24 steps)
 * rnn.predictProbaOne(windows[0]);
 */
export class Rnn extends SoftmaxNet {
  readonly kind = 'Rnn';
  readonly inChannels: number;
  readonly length: number;
  readonly hidden: number;
  readonly dropoutRate: number;
  readonly readout: RnnReadout;
  private readonly given: RnnOptions;
  /** W_x `[H, C]`, W_h `[H, H]`, b `[H]` and their gradients. */
  private readonly wx: Float64Array;
  private readonly wh: Float64Array;
  private readonly b: Float64Array;
  private readonly gwx: Float64Array;
  private readonly gwh: Float64Array;
  private readonly gb: Float64Array;
  private readonly slots: NormSlot[];
  private readonly drop: Dropout;
  private readonly out: Dense;
  /** The last forward's inputs `[N, C, L]` and hidden states h₀..h_L, each `[N, H]`. */
  private lastX: Float64Array = new Float64Array(0);
  private hs: Float64Array[] = [];

  constructor(options: RnnOptions) {
    super(resolveNetOptions(options));
    const o = options;
    checkKnownOptions('Rnn', o, ['inChannels', 'length', 'hidden', 'readout']);
    const posInt = (field: string, v: unknown): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new ModelError(`${field}: expected an integer >= 1, got ${String(v)}`);
      }
      return v;
    };
    this.inChannels = posInt('inChannels', o.inChannels);
    this.length = posInt('length', o.length);
    this.hidden = posInt('hidden', o.hidden ?? 32);
    const readout = o.readout ?? 'mean';
    if (!(rnnReadouts as readonly unknown[]).includes(readout)) {
      throw new ModelError(`readout: expected ${rnnReadouts.join(' or ')}, got ${String(readout)}`);
    }
    this.readout = readout;
    const d = o.dropout ?? 0;
    if (Array.isArray(d) && d.length !== 1) {
      throw new ModelError(`dropout: Rnn has one hidden layer, so one rate, got ${d.length}`);
    }
    this.dropoutRate = checkRate('dropout', Array.isArray(d) ? d[0] : d);
    const spec = checkNormalizerSpec(this.opts.normalizer);
    if (normalizerTraits(spec).needsWindows) {
      throw new ModelError(
        `normalizer: '${spec}' normalizes over a length axis, which each time step's [N, H] pre-activations lack`,
      );
    }
    const { groups, ws } = parseNormalizerSpec(spec);
    if (ws === true) {
      throw new ModelError(
        `normalizer: '${spec}' standardizes the weights of a conv or dense layer; Rnn has none before its normalizer`,
      );
    }
    if (typeof groups === 'number' && this.hidden % groups !== 0) {
      throw new ModelError(`normalizer: '${spec}' needs hidden (${this.hidden}) divisible by ${groups}`);
    }
    this.given = { ...o };
    const c = this.inChannels;
    const h = this.hidden;
    this.wx = xavierUniformInit(this.rng, c, h, new Float64Array(h * c));
    this.wh = xavierUniformInit(this.rng, h, h, new Float64Array(h * h));
    this.b = new Float64Array(h);
    this.gwx = new Float64Array(h * c);
    this.gwh = new Float64Array(h * h);
    this.gb = new Float64Array(h);
    this.slots = Array.from(
      { length: this.length },
      (_, t) => new NormSlot(`norm${t}`, makeNormalizer(spec, { channels: h }, this.opts.seed)),
    );
    this.drop = new Dropout(this.dropoutRate);
    this.out = new Dense(h, this.classes);
    xavierUniformInit(this.rng, h, this.classes, this.out.weight);
    this.initOptimizer();
  }

  /** A state saved before the readout was an option (no `readout` in its options) read out the last state. */
  static fromState(s: NetState): Rnn {
    return SoftmaxNet.restore(
      s,
      'Rnn',
      (o) => new Rnn({ ...o, readout: o.readout ?? 'last' } as unknown as RnnOptions),
    );
  }

  protected optionsForState(): Record<string, unknown> {
    return JSON.parse(JSON.stringify({ ...this.given, readout: this.readout })) as Record<string, unknown>;
  }

  protected layerParams(): Param[] {
    return [
      { name: 'input.weight', value: this.wx, grad: this.gwx, decay: true },
      { name: 'recurrent.weight', value: this.wh, grad: this.gwh, decay: true },
      { name: 'recurrent.bias', value: this.b, grad: this.gb, decay: false },
      { name: 'out.weight', value: this.out.weight, grad: this.out.weightGrad, decay: true },
      { name: 'out.bias', value: this.out.bias, grad: this.out.biasGrad, decay: false },
    ];
  }

  protected normSlots(): NormSlot[] {
    return this.slots;
  }

  /** Each step's normalizer sees one value per event and unit: `[N, H]`. */
  protected valuesPerChannel(n: number): number {
    return n;
  }

  protected encode(X: Features[], field: string): Tensor {
    const c = this.inChannels;
    const l = this.length;
    const n = X.length;
    const data = new Float64Array(n * c * l);
    const put = (name: string, v: unknown, at: number): void => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ModelError(`${name}: expected a finite number, got ${String(v)}`);
      data[at] = v;
    };
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
          for (let t = 0; t < l; t++) put(`${name}[${ch}][${t}]`, row[t], base + ch * l + t);
        }
      } else if (Array.isArray(x) || x instanceof Float64Array) {
        const flat = x as ArrayLike<unknown>;
        if (flat.length !== c * l) {
          throw new ModelError(
            `${name}: wrong dimension: expected a [${c}, ${l}] window (or ${c * l} values), got ${flat.length} values`,
          );
        }
        for (let j = 0; j < c * l; j++) put(`${name}[${j}]`, flat[j], base + j);
      } else {
        throw new ModelError(
          `${name}: expected a [${c}, ${l}] window, got ${x === null ? 'null' : typeof x}`,
        );
      }
    }
    return { data, shape: [n, c, l] };
  }

  protected forwardLogits(x: Tensor, normTraining: boolean, dropout: boolean): Tensor {
    const [n, c, l] = x.shape;
    const h = this.hidden;
    const xd = x.data;
    this.lastX = xd;
    const hs: Float64Array[] = [new Float64Array(n * h)];
    for (let t = 0; t < l; t++) {
      const prev = hs[t];
      const z = new Float64Array(n * h);
      for (let i = 0; i < n; i++) {
        for (let o = 0; o < h; o++) {
          let s = this.b[o];
          const wxo = o * c;
          for (let ch = 0; ch < c; ch++) s += this.wx[wxo + ch] * xd[(i * c + ch) * l + t];
          const who = o * h;
          const po = i * h;
          for (let k = 0; k < h; k++) s += this.wh[who + k] * prev[po + k];
          z[i * h + o] = s;
        }
      }
      const zt: Tensor = { data: z, shape: [n, h] };
      this.guardFinite(zt);
      const a = this.slots[t].forward(zt, normTraining).data;
      const next = new Float64Array(n * h);
      for (let j = 0; j < n * h; j++) next[j] = Math.tanh(a[j]);
      hs.push(next);
    }
    this.hs = hs;
    let read = hs[l];
    if (this.readout === 'mean') {
      read = new Float64Array(n * h);
      for (let t = 1; t <= l; t++) {
        const ht = hs[t];
        for (let j = 0; j < n * h; j++) read[j] += ht[j];
      }
      for (let j = 0; j < n * h; j++) read[j] /= l;
    }
    return this.out.forward(this.drop.forward({ data: read, shape: [n, h] }, dropout, this.rng));
  }

  protected backwardLogits(dlogits: Tensor): void {
    const n = dlogits.shape[0];
    const c = this.inChannels;
    const l = this.length;
    const h = this.hidden;
    const xd = this.lastX;
    this.gwx.fill(0);
    this.gwh.fill(0);
    this.gb.fill(0);
    const dread = this.drop.backward(this.out.backward(dlogits)).data;
    // 'last': only h_L feeds the head; 'mean': every hₜ gets 1/L of the head's gradient, on top of what
    // flows back from hₜ₊₁.
    const share = this.readout === 'mean' ? 1 / l : 0;
    let dh = this.readout === 'mean' ? dread.map((v) => v * share) : dread;
    for (let t = l - 1; t >= 0; t--) {
      const ht = this.hs[t + 1];
      const prev = this.hs[t];
      const da = new Float64Array(n * h);
      for (let j = 0; j < n * h; j++) da[j] = dh[j] * (1 - ht[j] * ht[j]);
      const dz = this.slots[t].backward({ data: da, shape: [n, h] }).data;
      const dprev = new Float64Array(n * h);
      for (let i = 0; i < n; i++) {
        for (let o = 0; o < h; o++) {
          const g = dz[i * h + o];
          if (g === 0) continue;
          this.gb[o] += g;
          const wxo = o * c;
          for (let ch = 0; ch < c; ch++) this.gwx[wxo + ch] += g * xd[(i * c + ch) * l + t];
          const who = o * h;
          const po = i * h;
          for (let k = 0; k < h; k++) {
            this.gwh[who + k] += g * prev[po + k];
            dprev[po + k] += g * this.wh[who + k];
          }
        }
      }
      if (share !== 0 && t > 0) for (let j = 0; j < n * h; j++) dprev[j] += dread[j] * share;
      dh = dprev;
    }
  }
}
