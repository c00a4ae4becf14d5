import { allFinite } from '../../core/kernels.js';
import { Rng, type RngState } from '../../core/rng.js';
import type { Tensor } from '../../core/tensor.js';
import { ModelError } from '../../errors.js';
import type { Normalizer, NormalizerState } from '../../normalizers/normalizer.js';
import { NonFiniteGuard } from '../guard.js';
import { softmaxCrossEntropy, softmaxRow } from '../losses/softmax.js';
import type { Classifier, Features, ModelState, WeightStats } from '../types.js';
import {
  ParamOptimizer,
  type NetOptimizerSpec,
  type NetOptimizerState,
  validateNetOptimizer,
} from '../optim/paramOptimizer.js';
import type { NormSlot, NormalizerLayerStats } from './normSlot.js';
import type { Param } from './param.js';

/** What a net does when a batch-statistics normalizer gets one value per channel in training. */
export type SingletonPolicy = 'error' | 'running-stats' | 'skip';

/** Options shared by WindowNet and Mlp (defaults in brackets). */
export interface NetOptions {
  /** Number of classes, ≥ 2 (binary = 2). */
  classes: number;
  /** 'batch' | 'layer' | 'instance' | 'group:G' | 'batchrenorm' | 'online' | 'none' ['none']. */
  normalizer?: string;
  /** Inverted-dropout rate after each hidden ReLU, or one rate per hidden layer [0]. */
  dropout?: number | number[];
  /** [{ type: 'adam', lr: 0.01 }]. */
  optimizer?: NetOptimizerSpec;
  /** Weight decay rate λ_wd [0]. */
  weightDecay?: number;
  /** 'decoupled' (AdamW: w ← w − lr·λ_wd·w outside the gradient) or 'l2' (adds λ_wd·w to the gradient) ['decoupled']. */
  weightDecayMode?: 'decoupled' | 'l2';
  /** L1 penalty λ in (1/m)·λ·Σ|W| [0]. */
  l1?: number;
  /** L2 penalty λ in (1/m)·(λ/2)·ΣW² [0]. */
  l2?: number;
  /** ['running-stats'] — what to do when BatchNorm gets one value per channel in training. */
  singletonPolicy?: SingletonPolicy;
  /** Seed of the RNG for initialization and dropout masks [0]. */
  seed?: number;
}

/** The counters of singleton-batch handling, so a comparison can report how often BN could not train. */
export interface SingletonEvents {
  skipped: number;
  runningStats: number;
}

/**
 * Normalizer statistics of a net, shaped for the metrics catalog (`runningMeanDrift`,
 * `runningVarianceDrift`: averages over the layers that keep running statistics) plus per-layer detail.
 */
export interface NetNormalizerStats {
  normalizer: string;
  runningMeanDrift?: number;
  runningVarianceDrift?: number;
  singletonEvents: SingletonEvents;
  layers: NormalizerLayerStats[];
}

export interface NetPredictOptions {
  /**
   * Training-mode prediction (default false): the normalizer uses batch statistics, its running statistics
   * are left untouched, and dropout stays off, so the difference to inference mode is the normalizer's alone
   * (the train-versus-inference gap).
   */
  training?: boolean;
}

export interface NetState extends ModelState {
  version: 1;
  options: Record<string, unknown>;
  params: Record<string, number[]>;
  normalizers: (NormalizerState | null)[];
  optimizer: NetOptimizerState;
  rng: RngState;
  steps: number;
  rejectedUpdates: number;
  singletonEvents: SingletonEvents;
}

/** Thrown inside a step when a value went non-finite; caught by the guard, never escapes. */
class NonFinite extends Error {}

/** Resolved common options. */
export interface ResolvedNetOptions {
  classes: number;
  normalizer: string;
  optimizer: NetOptimizerSpec;
  weightDecay: number;
  weightDecayMode: 'decoupled' | 'l2';
  l1: number;
  l2: number;
  singletonPolicy: SingletonPolicy;
  seed: number;
}

/** Validates the shared options, naming the bad field. */
export function resolveNetOptions(o: NetOptions): ResolvedNetOptions {
  if (o === null || typeof o !== 'object') throw new ModelError('options: expected an object');
  if (!Number.isInteger(o.classes) || o.classes < 2) {
    throw new ModelError(`classes: expected an integer >= 2 (binary = 2), got ${String(o.classes)}`);
  }
  const nonNeg = (field: string, v: number | undefined): number => {
    const x = v ?? 0;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
      throw new ModelError(`${field}: expected a finite number >= 0, got ${String(v)}`);
    }
    return x;
  };
  const mode = o.weightDecayMode ?? 'decoupled';
  if (mode !== 'decoupled' && mode !== 'l2') {
    throw new ModelError(`weightDecayMode: expected 'decoupled' or 'l2', got ${JSON.stringify(mode)}`);
  }
  const policy = o.singletonPolicy ?? 'running-stats';
  if (policy !== 'error' && policy !== 'running-stats' && policy !== 'skip') {
    throw new ModelError(
      `singletonPolicy: expected 'error' | 'running-stats' | 'skip', got ${JSON.stringify(policy)}`,
    );
  }
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ModelError(`seed: expected an integer, got ${String(o.seed)}`);
  return {
    classes: o.classes,
    normalizer: o.normalizer ?? 'none',
    optimizer: validateNetOptimizer(o.optimizer ?? { type: 'adam', lr: 0.01 }),
    weightDecay: nonNeg('weightDecay', o.weightDecay),
    weightDecayMode: mode,
    l1: nonNeg('l1', o.l1),
    l2: nonNeg('l2', o.l2),
    singletonPolicy: policy,
    seed,
  };
}

const COMMON_KEYS = [
  'classes',
  'normalizer',
  'dropout',
  'optimizer',
  'weightDecay',
  'weightDecayMode',
  'l1',
  'l2',
  'singletonPolicy',
  'seed',
];

/** Rejects option names the net does not know (a typo would otherwise silently fall back to a default). */
export function checkKnownOptions(who: string, o: object, own: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!COMMON_KEYS.includes(k) && !own.includes(k)) {
      throw new ModelError(`${k}: unknown ${who} option (known: ${[...own, ...COMMON_KEYS].join(', ')})`);
    }
  }
}

/** Checks one dropout rate in [0, 1). */
export function checkRate(field: string, r: unknown): number {
  if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r >= 1) {
    throw new ModelError(`${field}: expected a dropout rate in [0, 1), got ${String(r)}`);
  }
  return r;
}

/**
 * The shared machinery of the small classifier nets: softmax cross-entropy head, penalties, the optimizer
 * step behind a non-finite guard, the singleton-batch policy, training- versus inference-mode predictions
 * and state I/O. Subclasses define the layers.
 *
 * Objective of one step on m events (m = 1 for learnOne, the batch size for learnMany):
 *   (1/m)·Σ wᵢ·CE(yᵢ, softmax(f(xᵢ))) + (1/m)·l1·Σ|W| + (1/m)·(l2/2)·ΣW² [+ (λ_wd/2)·ΣW² in 'l2' decay mode]
 * over the weights W (conv and dense kernels; biases and normalizer γ/β are not penalized).
 * `learnMany` takes ONE step on the whole batch, so a batch-statistics normalizer sees the batch together
 * (the point of the BatchNorm comparison); it is not a loop of `learnOne`.
 */
export abstract class SoftmaxNet implements Classifier {
  abstract readonly kind: string;
  readonly task = 'classification' as const;
  readonly classes: number;
  readonly opts: ResolvedNetOptions;
  /** Updates rejected by the non-finite guard (the model kept its last good state). */
  rejectedUpdates = 0;
  /** Steps applied. */
  steps = 0;
  /** Objective of the last applied step. */
  lastLoss = NaN;
  readonly singletonEvents: SingletonEvents = { skipped: 0, runningStats: 0 };
  protected rng: Rng;
  protected optimizer!: ParamOptimizer;
  /** Snapshots parameters and optimizer moments around a step; restores them when a value went non-finite. */
  private readonly guard = new NonFiniteGuard();
  /** Event-weighted sum of the batch losses behind the pending (accumulated) gradient. */
  private pendingLoss = 0;

  constructor(opts: ResolvedNetOptions) {
    this.opts = opts;
    this.classes = opts.classes;
    this.rng = new Rng(opts.seed);
  }

  /** Must be called by the subclass constructor once its layers exist. */
  protected initOptimizer(): void {
    const decoupled = this.opts.weightDecayMode === 'decoupled' ? this.opts.weightDecay : 0;
    this.optimizer = new ParamOptimizer(this.opts.optimizer, this.parameters(), decoupled);
  }

  /** Inputs → batch tensor, validating each event (messages name `${field}[i]`). */
  protected abstract encode(X: Features[], field: string): Tensor;
  /** Logits `[N, classes]`; `normTraining` selects the normalizer mode, `dropout` whether masks are drawn. */
  protected abstract forwardLogits(x: Tensor, normTraining: boolean, dropout: boolean): Tensor;
  /** Backpropagates dL/dlogits, filling every parameter's grad. */
  protected abstract backwardLogits(dlogits: Tensor): void;
  /** Conv/dense parameters (saved in `state().params`); the normalizers' live in their own state. */
  protected abstract layerParams(): Param[];
  protected abstract normSlots(): NormSlot[];
  /** Values per channel each normalizer sees for a batch of n events. */
  protected abstract valuesPerChannel(n: number): number;
  /** Training-input transform (window augmentation); identity by default. */
  protected augment(x: Tensor): Tensor {
    return x;
  }
  /** Options as passed to the constructor, JSON-safe (saved in state). */
  protected abstract optionsForState(): Record<string, unknown>;

  /** Every trainable parameter (live arrays, stable order): layers first, then normalizers. */
  parameters(): Param[] {
    return [...this.layerParams(), ...this.normSlots().flatMap((s) => s.params())];
  }

  /** Current learning rate (early stopping may lower it). */
  get learningRate(): number {
    return this.optimizer.lr;
  }

  scaleLearningRate(factor: number): void {
    if (!Number.isFinite(factor) || factor <= 0)
      throw new ModelError(`factor: expected a finite number > 0, got ${factor}`);
    this.optimizer.lr *= factor;
  }

  learnOne(x: Features, y: number, w = 1): void {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new ModelError(`w: expected a finite weight >= 0, got ${String(w)}`);
    }
    this.checkLabel('y', y);
    this.step(this.encode([x], 'x'), [y], w);
  }

  learnMany(X: Features[], Y: number[]): void {
    if (!Array.isArray(X) || !Array.isArray(Y) || X.length !== Y.length) {
      throw new ModelError(
        `learnMany: X and Y must be arrays of equal length, got ${lengthOf(X)} and ${lengthOf(Y)}`,
      );
    }
    if (X.length === 0) return;
    for (let i = 0; i < Y.length; i++) this.checkLabel(`Y[${i}]`, Y[i]);
    this.step(this.encode(X, 'X'), Y, 1);
  }

  predictOne(x: Features): number {
    return argmax(this.predictProbaOne(x));
  }

  predictMany(X: Features[]): number[] {
    return this.predictProbaMany(X).map(argmax);
  }

  predictProbaOne(x: Features, opts: NetPredictOptions = {}): number[] {
    return this.probabilities(this.encode([x], 'x'), opts.training ?? false)[0];
  }

  predictProbaMany(X: Features[], opts: NetPredictOptions = {}): number[][] {
    if (!Array.isArray(X)) throw new ModelError(`predictProbaMany: X must be an array, got ${typeof X}`);
    if (X.length === 0) return [];
    return this.probabilities(this.encode(X, 'X'), opts.training ?? false);
  }

  /**
   * Objective and gradients of a training-mode step on (X, Y) with dropout off, without changing the model
   * (running statistics restored). For gradient checks and diagnostics. A singleton batch is differentiated
   * through the running statistics unless the policy is 'error'.
   */
  gradients(X: Features[], Y: number[]): { loss: number; grads: Record<string, Float64Array> } {
    Y.forEach((y, i) => this.checkLabel(`Y[${i}]`, y));
    const x = this.encode(X, 'X');
    const slots = this.normSlots();
    const snaps = slots.map((s) => s.snapshot());
    // A singleton batch under 'running-stats' or 'skip' is differentiated as 'running-stats' trains it.
    const singleton = slots.some((s) => s.singleton(this.valuesPerChannel(Y.length)));
    const normTraining = !(singleton && this.opts.singletonPolicy !== 'error');
    try {
      const logits = this.forwardLogits(x, normTraining, false);
      const { loss, dlogits } = this.softmaxLoss(logits, Y, 1);
      this.backwardLogits(dlogits);
      const params = this.parameters();
      const total = loss + this.addPenalties(params, Y.length);
      const grads: Record<string, Float64Array> = {};
      for (const p of params) grads[p.name] = p.grad.slice();
      return { loss: total, grads };
    } finally {
      slots.forEach((s, i) => s.restore(snaps[i]));
    }
  }

  weightStats(): WeightStats {
    let l1 = 0;
    let sq = 0;
    let zeros = 0;
    let count = 0;
    for (const p of this.layerParams()) {
      if (!p.decay) continue;
      const v = p.value;
      for (let i = 0; i < v.length; i++) {
        l1 += Math.abs(v[i]);
        sq += v[i] * v[i];
        if (v[i] === 0) zeros++;
      }
      count += v.length;
    }
    return { l1, l2: Math.sqrt(sq), sparsity: count === 0 ? 0 : zeros / count, count };
  }

  /**
   * The normalization layers in forward order (null where a position has none). The objects change (a rejected
   * step or a training-mode prediction restores them from a snapshot), so a caller that attaches something to them,
   * such as synchronized BatchNorm's reducer (src/scale/syncBn.ts), reads them around each learning step.
   */
  normalizerLayers(): (Normalizer | null)[] {
    return this.normSlots().map((s) => s.norm);
  }

  /** Running-statistics summary per normalization layer plus the singleton counters, for metrics. */
  normalizerStats(): NetNormalizerStats {
    const layers = this.normSlots().map((s) => s.stats());
    const out: NetNormalizerStats = {
      normalizer: this.opts.normalizer,
      singletonEvents: { ...this.singletonEvents },
      layers,
    };
    const md = layers.filter((l) => l.runningMeanDrift !== undefined);
    if (md.length > 0) {
      out.runningMeanDrift = md.reduce((a, l) => a + l.runningMeanDrift!, 0) / md.length;
      out.runningVarianceDrift = md.reduce((a, l) => a + l.runningVarianceDrift!, 0) / md.length;
    }
    return out;
  }

  state(): NetState {
    const params: Record<string, number[]> = {};
    for (const p of this.layerParams()) params[p.name] = Array.from(p.value);
    return {
      kind: this.kind,
      version: 1,
      options: this.optionsForState(),
      params,
      normalizers: this.normSlots().map((s) => s.state()),
      optimizer: this.optimizer.state(),
      rng: this.rng.state(),
      steps: this.steps,
      rejectedUpdates: this.rejectedUpdates,
      singletonEvents: { ...this.singletonEvents },
      ...this.extraState(),
    };
  }

  /** Subclass additions to state (e.g. the augmenter). */
  protected extraState(): Record<string, unknown> {
    return {};
  }

  /**
   * `fromState` of a subclass: checks the state's kind, builds the net from the saved options and loads the
   * common parts (the subclass then loads its own).
   */
  protected static restore<T extends SoftmaxNet>(
    s: NetState,
    kind: string,
    make: (options: Record<string, unknown>) => T,
  ): T {
    if (s === null || typeof s !== 'object' || s.kind !== kind) {
      throw new ModelError(
        `${kind}.fromState: expected kind '${kind}', got ${String((s as { kind?: unknown } | null)?.kind)}`,
      );
    }
    const net = make(s.options);
    net.loadState(s);
    return net;
  }

  /** Loads the common parts of a state into a freshly constructed net of the same options. */
  protected loadState(s: NetState): void {
    if (s.version !== 1)
      throw new ModelError(`${this.kind}.fromState: unsupported version ${String(s.version)}`);
    for (const p of this.layerParams()) {
      const v = s.params[p.name];
      if (!Array.isArray(v) || v.length !== p.value.length) {
        throw new ModelError(`${this.kind}.fromState: params.${p.name} must have ${p.value.length} numbers`);
      }
      p.value.set(v);
    }
    const slots = this.normSlots();
    if (!Array.isArray(s.normalizers) || s.normalizers.length !== slots.length) {
      throw new ModelError(`${this.kind}.fromState: normalizers must list ${slots.length} entries`);
    }
    slots.forEach((slot, i) => {
      const ns = s.normalizers[i];
      if ((ns === null) !== (slot.norm === null)) {
        throw new ModelError(`${this.kind}.fromState: normalizers[${i}] does not match the options`);
      }
      slot.restore(ns);
    });
    this.optimizer.restore(s.optimizer);
    this.rng = Rng.fromState(s.rng);
    this.steps = s.steps;
    this.rejectedUpdates = s.rejectedUpdates;
    this.singletonEvents.skipped = s.singletonEvents.skipped;
    this.singletonEvents.runningStats = s.singletonEvents.runningStats;
  }

  private checkLabel(field: string, y: unknown): void {
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= this.classes) {
      const at = field === 'y' ? '' : `${field}: `;
      throw new ModelError(
        `${at}y=${String(y)} is not a class label: expected an integer in [0, ${this.classes})`,
      );
    }
  }

  /**
   * One training step on a batch: its gradient joins whatever was accumulated by {@link accumulateMany}, and
   * one optimizer step is taken on the lot. A rejected (non-finite) step leaves no trace of this batch:
   * parameters, optimizer moments, running statistics and the RNG are restored.
   */
  private step(x: Tensor, Y: number[], w: number): void {
    const normTraining = this.singletonMode(Y.length);
    if (normTraining === null) return;
    const slots = this.normSlots();
    const snaps = slots.map((s) => s.snapshot());
    const rngState = this.rng.state();
    try {
      this.addBatchGradient(x, Y, w, normTraining);
      this.applyAccumulated();
    } catch (e) {
      slots.forEach((s, i) => s.restore(snaps[i]));
      this.rng = Rng.fromState(rngState);
      if (e instanceof NonFinite) {
        this.rejectedUpdates++;
        return;
      }
      throw e;
    }
  }

  /**
   * Gradient accumulation: computes the gradient of the batch's mean loss in training mode (the normalizer
   * sees this batch as its batch and updates its running statistics) and adds it, weighted by the batch's
   * event count, to the pending gradient, without changing any weight. {@link stepAccumulated} then takes
   * one optimizer step on the mean gradient over every pending event, so a stream delivered in arrival
   * batches of any size can take the same number of steps (PyTorch's `loss.backward()` over several
   * micro-batches before one `optimizer.step()`). A non-finite batch gradient is rejected and counted.
   */
  accumulateMany(X: Features[], Y: number[]): void {
    if (!Array.isArray(X) || !Array.isArray(Y) || X.length !== Y.length) {
      throw new ModelError(
        `accumulateMany: X and Y must be arrays of equal length, got ${lengthOf(X)} and ${lengthOf(Y)}`,
      );
    }
    if (X.length === 0) return;
    for (let i = 0; i < Y.length; i++) this.checkLabel(`Y[${i}]`, Y[i]);
    const x = this.encode(X, 'X');
    const normTraining = this.singletonMode(Y.length);
    if (normTraining === null) return;
    const slots = this.normSlots();
    const snaps = slots.map((s) => s.snapshot());
    const rngState = this.rng.state();
    try {
      this.addBatchGradient(x, Y, 1, normTraining);
    } catch (e) {
      slots.forEach((s, i) => s.restore(snaps[i]));
      this.rng = Rng.fromState(rngState);
      if (e instanceof NonFinite) {
        this.rejectedUpdates++;
        return;
      }
      throw e;
    }
  }

  /** Events whose gradient is accumulated and waiting for {@link stepAccumulated}. */
  get pendingEvents(): number {
    return this.optimizer.pending;
  }

  /**
   * One optimizer step on the mean of the accumulated gradients (penalties added once, over all pending
   * events). Returns false when nothing was pending or the step was rejected as non-finite (then the
   * weights and moments are left as they were, and the pending gradient is dropped).
   */
  stepAccumulated(): boolean {
    if (this.optimizer.pending === 0) return false;
    try {
      this.applyAccumulated();
      return true;
    } catch (e) {
      if (e instanceof NonFinite) {
        this.rejectedUpdates++;
        return false;
      }
      throw e;
    }
  }

  /**
   * The singleton-batch policy for a training batch of n events: the normalizer mode to train in, or null
   * when the policy skips the batch (counted).
   */
  private singletonMode(n: number): boolean | null {
    if (!this.normSlots().some((s) => s.singleton(this.valuesPerChannel(n)))) return true;
    const policy = this.opts.singletonPolicy;
    if (policy === 'skip') {
      this.singletonEvents.skipped++;
      return null;
    }
    if (policy === 'running-stats') {
      this.singletonEvents.runningStats++;
      return false;
    }
    // 'error': the normalizer's own NormalizationError propagates from the forward pass.
    return true;
  }

  /** Forward and backward of one training batch, its gradient added to the optimizer's accumulator. */
  private addBatchGradient(x: Tensor, Y: number[], w: number, normTraining: boolean): void {
    const slots = this.normSlots();
    slots.forEach((s) => (s.measuring = true));
    try {
      const logits = this.forwardLogits(this.augment(x), normTraining, true);
      const { loss, dlogits } = this.softmaxLoss(logits, Y, w);
      if (!Number.isFinite(loss)) throw new NonFinite();
      this.backwardLogits(dlogits);
      const params = this.parameters();
      for (const p of params) if (!allFinite(p.grad.length, p.grad)) throw new NonFinite();
      this.optimizer.accumulate(params, Y.length);
      this.pendingLoss += Y.length * loss;
    } finally {
      slots.forEach((s) => (s.measuring = false));
    }
  }

  /** The optimizer step on the accumulated gradient, behind the non-finite guard; throws NonFinite when rejected. */
  private applyAccumulated(): void {
    const params = this.parameters();
    const m = this.optimizer.pending;
    const meanLoss = this.pendingLoss / m;
    this.pendingLoss = 0;
    this.optimizer.loadAccumulated(params);
    const total = meanLoss + this.addPenalties(params, m);
    if (!Number.isFinite(total)) throw new NonFinite();
    for (const p of params) if (!allFinite(p.grad.length, p.grad)) throw new NonFinite();
    this.guard.save([...params.map((p) => p.value), ...this.optimizer.moments()]);
    this.optimizer.step(params);
    if (!this.guard.commit()) {
      this.optimizer.rewind();
      throw new NonFinite();
    }
    this.steps++;
    this.lastLoss = total;
  }

  /** Throws the guard's signal when a pre-normalizer activation overflowed (normalizers reject non-finite input). */
  protected guardFinite(t: Tensor): void {
    if (!allFinite(t.data.length, t.data)) throw new NonFinite();
  }

  /** Adds the penalty gradients to params' grads; returns the penalty value. */
  private addPenalties(params: Param[], m: number): number {
    const { l1, l2, weightDecay, weightDecayMode } = this.opts;
    const wdl2 = weightDecayMode === 'l2' ? weightDecay : 0;
    if (l1 === 0 && l2 === 0 && wdl2 === 0) return 0;
    const a1 = l1 / m;
    const a2 = l2 / m + wdl2;
    let pen = 0;
    for (const p of params) {
      if (!p.decay) continue;
      const v = p.value;
      const g = p.grad;
      for (let i = 0; i < v.length; i++) {
        const wi = v[i];
        pen += a1 * Math.abs(wi) + 0.5 * a2 * wi * wi;
        g[i] += a1 * Math.sign(wi) + a2 * wi;
      }
    }
    return pen;
  }

  /** Mean weighted cross-entropy over the batch and its gradient w.r.t. the logits. */
  private softmaxLoss(logits: Tensor, Y: number[], w: number): { loss: number; dlogits: Tensor } {
    const d = new Float64Array(Y.length * this.classes);
    const loss = softmaxCrossEntropy(logits.data, Y, this.classes, w, d);
    return { loss, dlogits: { data: d, shape: [Y.length, this.classes] } };
  }

  private probabilities(x: Tensor, training: boolean): number[][] {
    const n = x.shape[0];
    const slots = this.normSlots();
    let normTraining = training;
    if (training && slots.some((s) => s.singleton(this.valuesPerChannel(n)))) {
      // Batch statistics do not exist for one value per channel: 'error' lets BatchNorm throw, the other
      // policies predict with the running statistics (so the measured gap is 0 for such batches).
      if (this.opts.singletonPolicy !== 'error') normTraining = false;
    }
    let logits: Tensor;
    if (normTraining) {
      const snaps = slots.map((s) => s.snapshot());
      try {
        logits = this.forwardLogits(x, true, false);
      } finally {
        slots.forEach((s, i) => s.restore(snaps[i]));
      }
    } else {
      logits = this.forwardLogits(x, false, false);
    }
    const k = this.classes;
    const out: number[][] = [];
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(k);
      softmaxRow(logits.data, i * k, k, row, 0, 1);
      out.push(row);
    }
    return out;
  }
}

function argmax(p: number[]): number {
  let best = 0;
  for (let j = 1; j < p.length; j++) if (p[j] > p[best]) best = j;
  return best;
}

function lengthOf(a: unknown): string {
  return Array.isArray(a) ? String(a.length) : typeof a;
}
