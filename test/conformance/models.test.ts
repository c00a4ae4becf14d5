import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { ModelError } from '../../src/errors.js';
import { modelRegistry, type ModelEntry } from '../../src/models/registry.js';
import { isClassifier, isSparse, type Features, type OnlineModel } from '../../src/models/types.js';

/** The shared checks every model in `modelRegistry` must pass (River's check_estimator). */
function stream(entry: ModelEntry, seed: number, n: number): { X: Features[]; Y: number[] } {
  const rng = new Rng(seed);
  const X: Features[] = [];
  const Y: number[] = [];
  for (let i = 0; i < n; i++) {
    X.push(entry.sampleX(rng));
    Y.push(entry.sampleY(rng));
  }
  return { X, Y };
}

function train(m: OnlineModel, X: Features[], Y: number[]): void {
  for (let i = 0; i < X.length; i++) {
    if (i % 7 === 6) m.learnMany(X.slice(i - 2, i + 1), Y.slice(i - 2, i + 1));
    else m.learnOne(X[i], Y[i]);
  }
}

/** A copy of x with one NaN feature (dense, sparse or window). */
function poisoned(x: Features): Features {
  const c = structuredClone(x);
  if (isSparse(c)) c.values[0] = NaN;
  else if (Array.isArray(c[0])) (c as number[][])[0][1] = NaN;
  else (c as number[] | Float64Array)[1] = NaN;
  return c;
}

/** x with every value replaced by 0.5 (same shape, same sparsity pattern). */
function constant(x: Features): Features {
  const c = structuredClone(x);
  if (isSparse(c)) c.values = c.values.map(() => 0.5);
  else if (Array.isArray(c[0])) return (c as number[][]).map((row) => row.map(() => 0.5));
  else return Array.from(c as number[] | Float64Array, () => 0.5);
  return c;
}

function outputs(m: OnlineModel, X: Features[]): number[][] {
  return X.map((x) => (isClassifier(m) ? m.predictProbaOne(x) : [m.predictOne(x)]));
}

describe.each(modelRegistry.map((e) => [e.name, e] as const))('model conformance: %s', (_name, entry) => {
  const { X, Y } = stream(entry, 11, 120);
  const { X: Xt } = stream(entry, 12, 40);

  it('round-trips its state through JSON: identical predictions and identical subsequent learning', () => {
    const a = entry.make(3);
    train(a, X.slice(0, 80), Y.slice(0, 80));
    const b = entry.fromState(JSON.parse(JSON.stringify(a.state())));
    expect(outputs(b, Xt)).toEqual(outputs(a, Xt));
    train(a, X.slice(80), Y.slice(80));
    train(b, X.slice(80), Y.slice(80));
    expect(outputs(b, Xt)).toEqual(outputs(a, Xt));
    expect(JSON.stringify(b.state())).toBe(JSON.stringify(a.state()));
    expect(b.weightStats()).toEqual(a.weightStats());
  });

  it('gives identical runs for the same seed, and learns something (predictions move)', () => {
    const a = entry.make(5);
    const b = entry.make(5);
    const before = outputs(a, Xt);
    train(a, X, Y);
    train(b, X, Y);
    expect(outputs(b, Xt)).toEqual(outputs(a, Xt));
    expect(outputs(a, Xt)).not.toEqual(before);
    for (const row of outputs(a, Xt)) for (const v of row) expect(Number.isFinite(v)).toBe(true);
  });

  it('never mutates its input', () => {
    const m = entry.make(1);
    const copyX = structuredClone(X);
    const copyY = [...Y];
    train(m, X, Y);
    m.predictMany(X);
    if (isClassifier(m)) m.predictProbaMany(X);
    expect(X).toEqual(copyX);
    expect(Y).toEqual(copyY);
  });

  it('rejects bad input with a ModelError naming it, and is unchanged afterwards', () => {
    const m = entry.make(2);
    train(m, X.slice(0, 20), Y.slice(0, 20));
    const snapshot = JSON.stringify(m.state());
    const rng = new Rng(9);
    expect(() => m.learnOne(entry.wrongDimX(rng), Y[0])).toThrow(ModelError);
    expect(() => m.learnOne(entry.wrongDimX(rng), Y[0])).toThrow(/dim|range/);
    expect(() => m.predictOne(entry.wrongDimX(rng))).toThrow(ModelError);
    const x = poisoned(X[0]);
    expect(() => m.learnOne(x, Y[0])).toThrow(/NaN/);
    expect(() => m.learnMany([X[1], x], [Y[1], Y[0]])).toThrow(/NaN/);
    expect(() => m.learnOne(X[0], NaN)).toThrow(/y=NaN/);
    if (entry.badLabel !== undefined) {
      expect(() => m.learnOne(X[0], entry.badLabel!)).toThrow(new RegExp(`y=${entry.badLabel}`));
      expect(() => m.learnMany([X[0]], [entry.badLabel!])).toThrow(ModelError);
    }
    expect(JSON.stringify(m.state())).toBe(snapshot);
    expect(() => entry.makeWith({ bogusOption: 1 })).toThrow(/bogusOption/);
  });

  it('stays finite on a constant input stream (zero variance everywhere)', () => {
    const m = entry.make(6);
    const rng = new Rng(13);
    const x = constant(entry.sampleX(rng));
    for (let i = 0; i < 50; i++) m.learnOne(x, entry.sampleY(rng));
    m.learnMany([x, x, x], [entry.sampleY(rng), entry.sampleY(rng), entry.sampleY(rng)]);
    const out = isClassifier(m) ? m.predictProbaOne(x) : [m.predictOne(x)];
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
    expect(m.rejectedUpdates).toBe(0);
  });

  it('reports weight statistics consistent with its state', () => {
    const m = entry.make(4);
    train(m, X, Y);
    const s = m.weightStats();
    expect(s.count).toBeGreaterThan(0);
    expect(s.sparsity).toBeGreaterThanOrEqual(0);
    expect(s.sparsity).toBeLessThanOrEqual(1);
    expect(s.l2).toBeLessThanOrEqual(s.l1 + 1e-12);
    expect(m.rejectedUpdates).toBe(0);
  });
});
