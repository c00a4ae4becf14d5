/**
 * The shared checks every model must pass (River's `check_estimator`), as plain functions: each throws an
 * `AssertionError` (node:assert) on failure and needs no test framework, so a third party can run them on
 * its own model from any runner. test/conformance/models.test.ts runs them on every case of
 * `modelConformanceCases` (src/models/modelFamilies.ts).
 *
 * @example
 * import { runModelChecks } from 'streamnorm/testing';
 * runModelChecks({ name: 'mine', make: (seed) => new MyModel({ seed }), ... }); // throws on the first failure
 */
import assert from 'node:assert/strict';
import { Rng } from '../core/rng.js';
import { ModelError } from '../errors.js';
import type { ModelConformanceCase } from '../models/modelFamily.js';
import { isClassifier, isSparse, type Features, type OnlineModel } from '../models/types.js';

/** One named check; `run` throws when the case fails it. */
export interface ModelCheck {
  name: string;
  run(c: ModelConformanceCase): void;
}

function stream(c: ModelConformanceCase, seed: number, n: number): { X: Features[]; Y: number[] } {
  const rng = new Rng(seed);
  const X: Features[] = [];
  const Y: number[] = [];
  for (let i = 0; i < n; i++) {
    X.push(c.sampleX(rng));
    Y.push(c.sampleY(rng));
  }
  return { X, Y };
}

/** The training stream (120 events) and the probe inputs (40) every check uses. */
function data(c: ModelConformanceCase): { X: Features[]; Y: number[]; Xt: Features[] } {
  const { X, Y } = stream(c, 11, 120);
  return { X, Y, Xt: stream(c, 12, 40).X };
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

/** Asserts that `fn` throws an error whose message matches `re` (and, if given, of class `type`). */
function throwsMatching(fn: () => unknown, re: RegExp, type: new (...a: never[]) => Error = Error): void {
  assert.throws(fn, (e: unknown) => e instanceof type && re.test(e.message));
}

/** `actual` equals `expected` within a relative tolerance (sums taken in another order differ in the last bits). */
function close(actual: number, expected: number, what: string): void {
  const tol = 1e-9 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: reported ${actual}, the weights give ${expected}`);
}

export const modelChecks: readonly ModelCheck[] = [
  {
    name: 'round-trips its state through JSON: identical predictions and identical subsequent learning',
    run(c) {
      const { X, Y, Xt } = data(c);
      const a = c.make(3);
      train(a, X.slice(0, 80), Y.slice(0, 80));
      const b = c.fromState(JSON.parse(JSON.stringify(a.state())));
      assert.deepStrictEqual(outputs(b, Xt), outputs(a, Xt));
      train(a, X.slice(80), Y.slice(80));
      train(b, X.slice(80), Y.slice(80));
      assert.deepStrictEqual(outputs(b, Xt), outputs(a, Xt));
      assert.equal(JSON.stringify(b.state()), JSON.stringify(a.state()));
      assert.deepStrictEqual(b.weightStats(), a.weightStats());
    },
  },
  {
    name: 'gives identical runs for the same seed, and learns something (predictions move)',
    run(c) {
      const { X, Y, Xt } = data(c);
      const a = c.make(5);
      const b = c.make(5);
      const before = outputs(a, Xt);
      train(a, X, Y);
      train(b, X, Y);
      assert.deepStrictEqual(outputs(b, Xt), outputs(a, Xt));
      assert.notDeepStrictEqual(outputs(a, Xt), before);
      for (const row of outputs(a, Xt)) for (const v of row) assert.ok(Number.isFinite(v), `output ${v}`);
    },
  },
  {
    name: 'never mutates its input',
    run(c) {
      const { X, Y } = data(c);
      const m = c.make(1);
      const copyX = structuredClone(X);
      const copyY = [...Y];
      train(m, X, Y);
      m.predictMany(X);
      if (isClassifier(m)) m.predictProbaMany(X);
      assert.deepStrictEqual(X, copyX);
      assert.deepStrictEqual(Y, copyY);
    },
  },
  {
    name: 'rejects bad input with a ModelError naming it, and is unchanged afterwards',
    run(c) {
      const { X, Y } = data(c);
      const m = c.make(2);
      train(m, X.slice(0, 20), Y.slice(0, 20));
      const snapshot = JSON.stringify(m.state());
      const rng = new Rng(9);
      assert.throws(() => m.learnOne(c.wrongDimX(rng), Y[0]), ModelError);
      throwsMatching(() => m.learnOne(c.wrongDimX(rng), Y[0]), /dim|range/);
      assert.throws(() => m.predictOne(c.wrongDimX(rng)), ModelError);
      const x = poisoned(X[0]);
      throwsMatching(() => m.learnOne(x, Y[0]), /NaN/);
      throwsMatching(() => m.learnMany([X[1], x], [Y[1], Y[0]]), /NaN/);
      throwsMatching(() => m.learnOne(X[0], NaN), /y=NaN/);
      if (c.badLabel !== undefined) {
        const bad = c.badLabel;
        throwsMatching(() => m.learnOne(X[0], bad), new RegExp(`y=${bad}`));
        assert.throws(() => m.learnMany([X[0]], [bad]), ModelError);
      }
      assert.equal(JSON.stringify(m.state()), snapshot);
      throwsMatching(() => c.makeWith({ bogusOption: 1 }), /bogusOption/);
    },
  },
  {
    name: 'stays finite on a constant input stream (zero variance everywhere)',
    run(c) {
      const m = c.make(6);
      const rng = new Rng(13);
      const x = constant(c.sampleX(rng));
      for (let i = 0; i < 50; i++) m.learnOne(x, c.sampleY(rng));
      m.learnMany([x, x, x], [c.sampleY(rng), c.sampleY(rng), c.sampleY(rng)]);
      const out = isClassifier(m) ? m.predictProbaOne(x) : [m.predictOne(x)];
      for (const v of out) assert.ok(Number.isFinite(v), `output ${v}`);
      assert.equal(m.rejectedUpdates, 0);
    },
  },
  {
    name: 'reports weight statistics consistent with its state',
    run(c) {
      const { X, Y } = data(c);
      const m = c.make(4);
      train(m, X, Y);
      const s = m.weightStats();
      const w = c.weights(m);
      let l1 = 0;
      let sq = 0;
      let zeros = 0;
      for (let i = 0; i < w.length; i++) {
        l1 += Math.abs(w[i]);
        sq += w[i] * w[i];
        if (w[i] === 0) zeros++;
      }
      assert.ok(w.length > 0, 'no weights');
      assert.equal(s.count, w.length);
      assert.equal(s.sparsity, zeros / w.length);
      close(s.l1, l1, 'l1');
      close(s.l2, Math.sqrt(sq), 'l2');
      assert.equal(m.rejectedUpdates, 0);
    },
  },
];

/** Runs every check on one case; throws the first failure, prefixed with the case's and the check's name. */
export function runModelChecks(c: ModelConformanceCase): void {
  for (const check of modelChecks) {
    try {
      check.run(c);
    } catch (e) {
      if (e instanceof Error) e.message = `${c.name}: ${check.name}: ${e.message}`;
      throw e;
    }
  }
}
