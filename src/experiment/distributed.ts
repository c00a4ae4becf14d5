/**
 * The distributed comparison (issue 11, "synchronized batch statistics recover BatchNorm's error at batch 2·N"):
 * N replicas train one model data-parallel (each step every replica computes the gradient of its own batch, the
 * gradients are averaged — an all-reduce — and every replica takes the same step), each replica reading its own
 * partition of a stream whose partitions are skewed (a partition's events are mostly of one class). The
 * normalization layer is what differs:
 * - `batch` (per replica): BatchNorm over the replica's own batch — skewed, and tiny;
 * - `syncbatch`: {@link SyncBatchNorm} over the in-process exchange — batch statistics pooled across replicas;
 * - `group:G`, `layer`: per-sample normalizers, which need no batch;
 * - the reference `batch@2N`: one process, BatchNorm over all replicas' batches of the step concatenated.
 * Model: dense → normalizer → ReLU → dense → softmax, plain SGD on the mean log loss; the score is the prequential
 * error (each replica predicts its batch with the layer in inference mode, then learns it).
 */
import { Rng } from '../core/rng.js';
import { mean, tHalfWidth } from '../evaluation/interval.js';
import type { Tensor } from '../core/tensor.js';
import { Dense } from '../models/nets/dense.js';
import { BatchNorm } from '../normalizers/batchNorm.js';
import { GroupNorm } from '../normalizers/groupNorm.js';
import { LayerNorm } from '../normalizers/layerNorm.js';
import type { Normalizer } from '../normalizers/normalizer.js';
import { InMemoryExchange } from '../scale/stepExchange.js';
import { SyncBatchNorm } from '../scale/syncBatchNorm.js';

export interface DistributedCellOptions {
  /** `batch`, `syncbatch`, `group:G`, `layer` (per replica), or `batch@all` (the one-process reference). */
  variant: string;
  replicas: number;
  /** Events per replica per step. */
  batch: number;
  seed: number;
  /** Events in the stream (all partitions). */
  events: number;
  /** Probability that an event lands in its class's partition (class mod N); otherwise a uniform partition. */
  skew: number;
  features: number;
  classes: number;
  hidden: number;
  lr: number;
}

export interface DistributedCell {
  error: number;
  /** Error over the second half of the steps. */
  errorAfterWarmup: number;
  loss: number;
  steps: number;
  events: number;
}

interface Labeled {
  x: Float64Array;
  y: number;
}

/**
 * A seeded stream of `features`-dimensional events in `classes` Gaussian classes (means N(0, 1.5²) per seed) with
 * a per-event gain (log-normal, σ 0.3), split into `replicas` partitions by a class-correlated key.
 */
export function skewedPartitions(o: DistributedCellOptions): Labeled[][] {
  const rng = new Rng(1000 + o.seed);
  const means = Array.from({ length: o.classes }, () =>
    Float64Array.from({ length: o.features }, () => rng.normal(0, 1.5)),
  );
  const parts: Labeled[][] = Array.from({ length: o.replicas }, () => []);
  for (let i = 0; i < o.events; i++) {
    const y = rng.int(o.classes);
    const gain = Math.exp(rng.normal(0, 0.3));
    const x = Float64Array.from({ length: o.features }, (_, j) => gain * (means[y][j] + rng.normal()));
    const p = rng.uniform(0, 1) < o.skew ? y % o.replicas : rng.int(o.replicas);
    parts[p].push({ x, y });
  }
  return parts;
}

/** One normalization position of one replica, sync or not. */
interface Slot {
  norm: Normalizer;
  forward(x: Tensor, training: boolean): Promise<Tensor>;
  backward(dy: Tensor): Promise<Tensor>;
}

function plainSlot(norm: Normalizer): Slot {
  return {
    norm,
    forward: (x, training) => Promise.resolve(norm.forward(x, { training })),
    backward: (dy) => Promise.resolve(norm.backward(dy)),
  };
}

function makeSlots(variant: string, replicas: number, hidden: number): Slot[] {
  if (variant === 'syncbatch') {
    const group = new InMemoryExchange(replicas);
    return Array.from({ length: replicas }, (_, r) => {
      const s = new SyncBatchNorm(new BatchNorm({ channels: hidden }), group.member(r));
      return {
        norm: s.bn,
        forward: (x, training) => s.forward(x, { training }),
        backward: (dy) => s.backward(dy),
      };
    });
  }
  const make = (): Normalizer => {
    if (variant === 'batch' || variant === 'batch@all') return new BatchNorm({ channels: hidden });
    if (variant === 'layer') return new LayerNorm({ shape: [hidden] });
    const g = /^group:(\d+)$/.exec(variant);
    if (g !== null) return new GroupNorm({ groups: Number(g[1]), channels: hidden });
    throw new RangeError(`distributed: unknown variant ${variant}`);
  };
  return Array.from({ length: replicas }, () => plainSlot(make()));
}

interface Replica {
  d1: Dense;
  d2: Dense;
  slot: Slot;
}

/** Softmax log loss over a batch: returns the summed loss, errors, and dlogits of the mean loss into `grad`. */
function softmaxLoss(
  logits: Tensor,
  ys: number[],
  grad: Float64Array | null,
): { loss: number; errors: number } {
  const [n, k] = logits.shape;
  let loss = 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      if (logits.data[o + j] > max) {
        max = logits.data[o + j];
        arg = j;
      }
    }
    let z = 0;
    for (let j = 0; j < k; j++) z += Math.exp(logits.data[o + j] - max);
    loss += -(logits.data[o + ys[i]] - max - Math.log(z));
    if (arg !== ys[i]) errors++;
    if (grad !== null) {
      for (let j = 0; j < k; j++)
        grad[o + j] = (Math.exp(logits.data[o + j] - max) / z - (j === ys[i] ? 1 : 0)) / n;
    }
  }
  return { loss, errors };
}

function relu(a: Tensor): { h: Tensor; mask: Uint8Array } {
  const mask = new Uint8Array(a.data.length);
  const h = new Float64Array(a.data.length);
  for (let i = 0; i < h.length; i++) {
    mask[i] = a.data[i] > 0 ? 1 : 0;
    h[i] = a.data[i] > 0 ? a.data[i] : 0;
  }
  return { h: { data: h, shape: a.shape }, mask };
}

function batchTensor(events: Labeled[], features: number): Tensor {
  const data = new Float64Array(events.length * features);
  events.forEach((e, i) => data.set(e.x, i * features));
  return { data, shape: [events.length, features] };
}

/** The parameters every replica shares (kept equal by applying the averaged gradient everywhere). */
function params(r: Replica): { value: Float64Array; grad: Float64Array }[] {
  const out = [
    { value: r.d1.weight, grad: r.d1.weightGrad },
    { value: r.d1.bias, grad: r.d1.biasGrad },
    { value: r.d2.weight, grad: r.d2.weightGrad },
    { value: r.d2.bias, grad: r.d2.biasGrad },
  ];
  const p = r.slot.norm.params;
  const g = r.slot.norm.grads;
  if (p.gamma && g.gamma) out.push({ value: p.gamma, grad: g.gamma });
  if (p.beta && g.beta) out.push({ value: p.beta, grad: g.beta });
  return out;
}

/** Runs one variant on one seed: the prequential error of N data-parallel replicas (or the one-process reference). */
export async function runDistributedCell(o: DistributedCellOptions): Promise<DistributedCell> {
  const parts = skewedPartitions(o);
  const reference = o.variant === 'batch@all';
  const n = reference ? 1 : o.replicas;
  const initRng = new Rng(o.seed);
  const w1 = Float64Array.from({ length: o.features * o.hidden }, () =>
    initRng.normal(0, Math.sqrt(2 / o.features)),
  );
  const w2 = Float64Array.from({ length: o.hidden * o.classes }, () =>
    initRng.normal(0, Math.sqrt(1 / o.hidden)),
  );
  const slots = makeSlots(o.variant, n, o.hidden);
  const replicas: Replica[] = slots.map((slot) => {
    const d1 = new Dense(o.features, o.hidden);
    const d2 = new Dense(o.hidden, o.classes);
    d1.weight.set(w1);
    d2.weight.set(w2);
    return { d1, d2, slot };
  });
  const steps = Math.min(...parts.map((p) => Math.floor(p.length / o.batch)));
  let errors = 0;
  let late = 0;
  let lateEvents = 0;
  let loss = 0;
  let events = 0;
  for (let t = 0; t < steps; t++) {
    const perReplica = parts.map((p) => p.slice(t * o.batch, (t + 1) * o.batch));
    const batches = reference ? [perReplica.flat()] : perReplica;
    await Promise.all(
      replicas.map(async (r, i) => {
        const b = batches[i];
        const x = batchTensor(b, o.features);
        const ys = b.map((e) => e.y);
        // Predict (inference mode), then learn: the prequential protocol.
        const pred = softmaxLoss(
          r.d2.forward(relu(await r.slot.forward(r.d1.forward(x), false)).h),
          ys,
          null,
        );
        errors += pred.errors;
        loss += pred.loss;
        events += b.length;
        if (t >= steps / 2) {
          late += pred.errors;
          lateEvents += b.length;
        }
        const a = await r.slot.forward(r.d1.forward(x), true);
        const { h, mask } = relu(a);
        const logits = r.d2.forward(h);
        const dlogits = new Float64Array(logits.data.length);
        softmaxLoss(logits, ys, dlogits);
        const dh = r.d2.backward({ data: dlogits, shape: logits.shape });
        for (let k = 0; k < mask.length; k++) if (mask[k] === 0) dh.data[k] = 0;
        r.d1.backward(await r.slot.backward(dh));
      }),
    );
    // The gradient all-reduce (mean over replicas, in replica order) and one SGD step everywhere.
    const all = replicas.map(params);
    for (let k = 0; k < all[0].length; k++) {
      const g = new Float64Array(all[0][k].grad.length);
      for (const p of all) for (let j = 0; j < g.length; j++) g[j] += p[k].grad[j] / n;
      for (const p of all) for (let j = 0; j < g.length; j++) p[k].value[j] -= o.lr * g[j];
    }
  }
  return {
    error: errors / events,
    errorAfterWarmup: lateEvents === 0 ? NaN : late / lateEvents,
    loss: loss / events,
    steps,
    events,
  };
}

export interface DistributedExperimentOptions {
  replicas: number;
  batch: number;
  seeds: number;
  events: number;
  skews: number[];
  variants: string[];
  features: number;
  classes: number;
  hidden: number;
  lr: number;
}

export interface DistributedRow {
  normalizer: string;
  skew: number;
  replicas: number;
  /** Events per replica per step (the reference: all replicas' together). */
  batchPerReplica: number;
  /** Events the batch statistics are taken over (per-sample normalizers: 1). */
  statisticsOver: number;
  seeds: number;
  error: number;
  errorCi95: number;
  errorAfterWarmup: number;
  errorAfterWarmupCi95: number;
  loss: number;
  lossCi95: number;
  /** Paired over seeds: this row's error minus the reference's (batch@all), mean and 95 % half-width. */
  errorMinusReference: number;
  errorMinusReferenceCi95: number;
  steps: number;
  events: number;
}

export const defaultDistributedOptions: DistributedExperimentOptions = {
  replicas: 4,
  batch: 2,
  seeds: 10,
  events: 4000,
  skews: [0.9, 0],
  variants: ['batch@all', 'batch', 'syncbatch', 'group:4', 'layer'],
  features: 8,
  classes: 4,
  hidden: 16,
  lr: 0.1,
};

/** The row name of the reference (`batch@all`): one process's BatchNorm over all replicas' events of a step. */
export function referenceName(o: Pick<DistributedExperimentOptions, 'replicas' | 'batch'>): string {
  return `batch (one process, batch ${o.replicas * o.batch})`;
}

/** Every variant × skew × seed, aggregated over seeds with 95 % t-intervals ({@link tHalfWidth}). */
export async function runDistributedExperiment(
  o: DistributedExperimentOptions,
  onCell: (msg: string) => void = () => undefined,
): Promise<DistributedRow[]> {
  const rows: DistributedRow[] = [];
  for (const skew of o.skews) {
    const cells = new Map<string, DistributedCell[]>();
    for (const variant of o.variants) {
      const list: DistributedCell[] = [];
      for (let seed = 1; seed <= o.seeds; seed++) {
        list.push(await runDistributedCell({ ...o, variant, seed, skew }));
      }
      cells.set(variant, list);
      onCell(`skew ${skew} ${variant}: error ${mean(list.map((c) => c.error)).toFixed(4)}`);
    }
    const ref = cells.get('batch@all');
    for (const variant of o.variants) {
      const list = cells.get(variant)!;
      const pick = (f: (c: DistributedCell) => number): number[] => list.map(f);
      const diff = ref === undefined ? [] : list.map((c, i) => c.error - ref[i].error);
      const reference = variant === 'batch@all';
      const perSample = variant === 'layer' || variant.startsWith('group');
      rows.push({
        normalizer: reference ? referenceName(o) : variant,
        skew,
        replicas: reference ? 1 : o.replicas,
        batchPerReplica: reference ? o.replicas * o.batch : o.batch,
        statisticsOver: perSample ? 1 : variant === 'batch' ? o.batch : o.replicas * o.batch,
        seeds: o.seeds,
        error: mean(pick((c) => c.error)),
        errorCi95: tHalfWidth(pick((c) => c.error)),
        errorAfterWarmup: mean(pick((c) => c.errorAfterWarmup)),
        errorAfterWarmupCi95: tHalfWidth(pick((c) => c.errorAfterWarmup)),
        loss: mean(pick((c) => c.loss)),
        lossCi95: tHalfWidth(pick((c) => c.loss)),
        errorMinusReference: diff.length === 0 ? NaN : mean(diff),
        errorMinusReferenceCi95: diff.length === 0 ? NaN : tHalfWidth(diff),
        steps: mean(pick((c) => c.steps)),
        events: mean(pick((c) => c.events)),
      });
    }
  }
  return rows;
}

const pct = (v: number, ci: number): string =>
  Number.isFinite(ci) ? `${(100 * v).toFixed(1)} ± ${(100 * ci).toFixed(1)}` : `${(100 * v).toFixed(1)}`;

/** The rows as a Markdown table (errors in %, ± the 95 % t half-width over seeds). */
export function distributedMarkdown(rows: readonly DistributedRow[]): string {
  const lines = [
    '| skew | normalizer | replicas × batch | statistics over | error % | error % (2nd half) | log loss | error − reference (pp, paired) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const diff =
      r.normalizer.startsWith('batch (one process') || !Number.isFinite(r.errorMinusReference)
        ? '—'
        : `${(100 * r.errorMinusReference).toFixed(1)} ± ${(100 * r.errorMinusReferenceCi95).toFixed(1)}`;
    lines.push(
      `| ${r.skew} | ${r.normalizer} | ${r.replicas} × ${r.batchPerReplica} | ${r.statisticsOver} | ${pct(r.error, r.errorCi95)} | ${pct(r.errorAfterWarmup, r.errorAfterWarmupCi95)} | ${r.loss.toFixed(3)} ± ${r.lossCi95.toFixed(3)} | ${diff} |`,
    );
  }
  return lines.join('\n') + '\n';
}
