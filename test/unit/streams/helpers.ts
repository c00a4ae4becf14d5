import type { Classifier, Features, ModelState, WeightStats } from '../../../src/models/types.js';
import type { RawMessage, StreamEvent } from '../../../src/streams/event.js';

/** A raw message carrying `value` at `offset` of topic t, partition 0. */
export function raw(value: unknown, offset: number, partition = 0, topic = 't'): RawMessage {
  return {
    origin: { topic, partition, offset: String(offset), timestamp: 1_000 + offset },
    key: null,
    value,
    receivedAt: 0,
  };
}

export function eventJson(i: number, dim = 3, labeled = true): StreamEvent {
  const x = Array.from({ length: dim }, (_, k) => Math.sin(i * 1.3 + k) * (k + 1));
  const ev: StreamEvent = { id: `e${i}`, ts: 1_000 + i, x };
  if (labeled) ev.y = x[0] + 0.5 * x[1] > 0 ? 1 : 0;
  return ev;
}

/**
 * A tiny dense logistic regression (one SGD step on the mean gradient per learnMany), enough to exercise the
 * operators' contract with a model whose predictions move when it learns.
 */
export class TinyLogistic implements Classifier {
  readonly kind = 'tiny-logistic';
  readonly task = 'classification' as const;
  readonly classes = 2;
  rejectedUpdates = 0;
  w: number[];
  b = 0;
  lr: number;
  learnCalls: number[][] = [];

  constructor(dim: number, lr = 0.5) {
    this.w = new Array(dim).fill(0);
    this.lr = lr;
  }

  private dense(x: Features): number[] {
    if (Array.isArray(x) && !Array.isArray(x[0])) return x as number[];
    if (x instanceof Float64Array) return Array.from(x);
    throw new Error('dense vectors only');
  }

  private p1(x: Features): number {
    const v = this.dense(x);
    let z = this.b;
    for (let i = 0; i < this.w.length; i++) z += this.w[i] * v[i];
    return 1 / (1 + Math.exp(-z));
  }

  predictProbaOne(x: Features): number[] {
    const p = this.p1(x);
    return [1 - p, p];
  }
  predictProbaMany(X: Features[]): number[][] {
    return X.map((x) => this.predictProbaOne(x));
  }
  predictOne(x: Features): number {
    return this.p1(x) >= 0.5 ? 1 : 0;
  }
  predictMany(X: Features[]): number[] {
    return X.map((x) => this.predictOne(x));
  }
  learnOne(x: Features, y: number): void {
    this.learnMany([x], [y]);
  }
  learnMany(X: Features[], Y: number[]): void {
    this.learnCalls.push([...Y]);
    const g = new Array(this.w.length).fill(0);
    let gb = 0;
    for (let j = 0; j < X.length; j++) {
      const v = this.dense(X[j]);
      const r = this.p1(v) - Y[j];
      for (let i = 0; i < g.length; i++) g[i] += (r * v[i]) / X.length;
      gb += r / X.length;
    }
    for (let i = 0; i < g.length; i++) this.w[i] -= this.lr * g[i];
    this.b -= this.lr * gb;
  }
  weightStats(): WeightStats {
    const l1 = this.w.reduce((s, v) => s + Math.abs(v), 0);
    const l2 = Math.sqrt(this.w.reduce((s, v) => s + v * v, 0));
    return { l1, l2, sparsity: this.w.filter((v) => v === 0).length / this.w.length, count: this.w.length };
  }
  state(): ModelState {
    return { kind: this.kind, w: [...this.w], b: this.b, lr: this.lr };
  }
}
