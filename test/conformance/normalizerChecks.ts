/**
 * The conformance checks every normalizer passes (River's check_estimator, for normalizers). The cases come
 * from the normalizer descriptors (each descriptor lists its own), so adding a normalizer adds it here.
 * Opt-outs are fields of the case with a written reason (`gradientCheck.why`), never a skip.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { tensor, type Tensor } from '../../src/core/tensor.js';
import { NormalizationError } from '../../src/errors.js';
import type { ConformanceCase, NormalizerTraits } from '../../src/normalizers/descriptor.js';
import { normalizerFromState } from '../../src/normalizers/descriptors.js';
import type { Normalizer } from '../../src/normalizers/normalizer.js';
import { gradCheck, randomTensor } from '../unit/normalizers/gradCheck.js';

/** A descriptor's conformance case with its family's traits (what `conformanceCases()` returns). */
export type NormalizerCase = ConformanceCase & { traits: NormalizerTraits };

const C = 4;
const L = 5;

function shapesFor(e: NormalizerCase): { shape: number[]; feature: { channels: number; length?: number } }[] {
  const out: { shape: number[]; feature: { channels: number; length?: number } }[] = [
    { shape: [3, C, L], feature: { channels: C, length: L } },
  ];
  if (!e.traits.needsWindows) out.push({ shape: [3, C], feature: { channels: C } });
  return out;
}

function snapshot(n: Normalizer): string {
  return JSON.stringify({
    state: n.state(),
    grads: { g: Array.from(n.grads.gamma ?? []), b: Array.from(n.grads.beta ?? []) },
  });
}

function trainSteps(n: Normalizer, shape: number[], seed: number, steps = 3): void {
  const rng = new Rng(seed);
  for (let i = 0; i < steps; i++) {
    n.forward(randomTensor(rng, shape, 2, 3));
    n.backward(randomTensor(rng, shape));
  }
}

/**
 * Registers the conformance checks (vitest `describe`/`it`) for each case; call it at a test file's top
 * level.
 */
export function describeNormalizerConformance(cases: readonly NormalizerCase[]): void {
  describe.each(cases.map((e) => [e.name, e] as const))('conformance: %s', (_name, entry) => {
    describe.each(shapesFor(entry).map((s) => [`[${s.shape.join(', ')}]`, s] as const))(
      'input %s',
      (_s, { shape, feature }) => {
        it('keeps the input shape in training and inference, forward and backward', () => {
          const n = entry.create(feature);
          const rng = new Rng(1);
          for (const training of [true, false]) {
            const y = n.forward(randomTensor(rng, shape), { training });
            expect(y.shape).toEqual(shape);
            expect(y.data.length).toBe(shape.reduce((a, b) => a * b, 1));
            const dx = n.backward(randomTensor(rng, shape));
            expect(dx.shape).toEqual(shape);
          }
        });

        it('round-trips its state through JSON to identical outputs and gradients', () => {
          const a = entry.create(feature);
          trainSteps(a, shape, 2);
          if (a.params.gamma) a.params.gamma.forEach((_, j, g) => (g[j] = 1 + 0.1 * j));
          const b = normalizerFromState(JSON.parse(JSON.stringify(a.state())));
          expect(b.state()).toEqual(a.state());
          const rng = new Rng(3);
          for (const training of [true, false, true]) {
            const x = randomTensor(rng, shape, 1, 2);
            const dy = randomTensor(rng, shape);
            const ya = a.forward(x, { training });
            const yb = b.forward(x, { training });
            expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
            expect(Array.from(b.backward(dy).data)).toEqual(Array.from(a.backward(dy).data));
            expect(Array.from(b.grads.gamma ?? [])).toEqual(Array.from(a.grads.gamma ?? []));
            expect(b.state()).toEqual(a.state());
          }
        });

        it('is deterministic: two fresh instances fed the same stream agree bit for bit', () => {
          const a = entry.create(feature);
          const b = entry.create(feature);
          const ra = new Rng(4);
          const rb = new Rng(4);
          for (let i = 0; i < 4; i++) {
            const training = i !== 2;
            const ya = a.forward(randomTensor(ra, shape, 1, 2), { training });
            const yb = b.forward(randomTensor(rb, shape, 1, 2), { training });
            expect(Array.from(yb.data)).toEqual(Array.from(ya.data));
            const da = a.backward(randomTensor(ra, shape));
            const db = b.backward(randomTensor(rb, shape));
            expect(Array.from(db.data)).toEqual(Array.from(da.data));
          }
          expect(b.state()).toEqual(a.state());
        });

        it('gives finite outputs and gradients on constant input', () => {
          const n = entry.create(feature);
          const size = shape.reduce((a, b) => a * b, 1);
          for (const training of [true, false, true]) {
            const y = n.forward(tensor(new Float64Array(size).fill(7.5), shape), { training });
            expect(y.data.every(Number.isFinite)).toBe(true);
            const dx = n.backward(tensor(new Float64Array(size).fill(0.3), shape));
            expect(dx.data.every(Number.isFinite)).toBe(true);
            expect((n.grads.gamma ?? new Float64Array(0)).every(Number.isFinite)).toBe(true);
          }
        });

        it.each([true, false])('backward matches finite differences (training=%s)', (training) => {
          const check =
            entry.gradientCheck && training ? entry.gradientCheck : { create: entry.create, why: '' };
          const n = check.create(feature);
          // Leave the initial running statistics so inference normalizes with something non-trivial.
          const rng = new Rng(5);
          if (!check.why) trainSteps(n, shape, 6, 2);
          n.params.gamma?.forEach((_, j, g) => (g[j] = 0.5 + 0.3 * j));
          n.params.beta?.forEach((_, j, b) => (b[j] = 0.1 * j - 0.2));
          const xShape = entry.gradientCheck?.oneSample && training ? [1, ...shape.slice(1)] : shape;
          const x = randomTensor(rng, xShape, 0.5, 1.5);
          const r = gradCheck(n, x, training, 7);
          expect(r.maxRelError, r.worst).toBeLessThan(1e-6);
        });

        it('moves running statistics only in training', () => {
          const n = entry.create(feature);
          const rng = new Rng(8);
          const before = JSON.stringify(n.state());
          n.forward(randomTensor(rng, shape, 3, 2), { training: false });
          n.backward(randomTensor(rng, shape));
          expect(JSON.stringify(n.state())).toBe(before);
          n.forward(randomTensor(rng, shape, 3, 2), { training: true });
          if (entry.hasRunningStats) expect(JSON.stringify(n.state())).not.toBe(before);
          else expect(JSON.stringify(n.state())).toBe(before);
        });

        it('writes into caller-owned buffers exactly what it returns fresh, and refuses bad ones untouched', () => {
          const a = entry.create(feature);
          const b = entry.create(feature);
          const size = shape.reduce((p, q) => p * q, 1);
          const out = new Float64Array(size);
          const dxBuf = new Float64Array(size);
          const rng = new Rng(13);
          for (const training of [true, false]) {
            const x = randomTensor(rng, shape, 1, 2);
            const dy = randomTensor(rng, shape);
            const y = a.forward(x, { training, out });
            expect(y.data).toBe(out);
            expect(Array.from(out)).toEqual(Array.from(b.forward(x, { training }).data));
            expect(a.backward(dy, dxBuf).data).toBe(dxBuf);
            expect(Array.from(dxBuf)).toEqual(Array.from(b.backward(dy).data));
          }
          const before = snapshot(a);
          const x = randomTensor(rng, shape);
          expect(() => a.forward(x, { out: new Float64Array(size + 1) })).toThrow(
            /out must be a Float64Array of/,
          );
          expect(() => a.forward(x, { out: x.data })).toThrow(/overlap/);
          expect(snapshot(a)).toBe(before);
        });

        it('does not modify its input or dy', () => {
          const n = entry.create(feature);
          const rng = new Rng(9);
          const x = randomTensor(rng, shape, 1, 2);
          const dy = randomTensor(rng, shape);
          const xCopy = Array.from(x.data);
          const dyCopy = Array.from(dy.data);
          n.forward(x);
          n.backward(dy);
          n.forward(x, { training: false });
          n.backward(dy);
          expect(Array.from(x.data)).toEqual(xCopy);
          expect(Array.from(dy.data)).toEqual(dyCopy);
          expect(x.shape).toEqual(shape);
        });

        it('throws NormalizationError on bad input and leaves its state untouched', () => {
          const n = entry.create(feature);
          trainSteps(n, shape, 10, 2);
          const before = snapshot(n);
          const size = shape.reduce((a, b) => a * b, 1);
          const nan = new Float64Array(size).fill(1);
          nan[size - 1] = NaN;
          const inf = new Float64Array(size).fill(1);
          inf[0] = -Infinity;
          const bad: [string, Tensor, RegExp][] = [
            ['NaN value', { data: nan, shape }, /NaN/],
            ['infinite value', { data: inf, shape }, /-Infinity/],
            [
              'wrong channel count',
              randomTensor(new Rng(1), [shape[0], C + 1, ...shape.slice(2)]),
              /shape \[3, 5/,
            ],
            ['empty batch', { data: new Float64Array(0), shape: [0, ...shape.slice(1)] }, /empty batch/],
            ['rank 4', randomTensor(new Rng(1), [1, C, 2, 2]), /rank 4/],
            ['rank 1', randomTensor(new Rng(1), [C]), /rank 1/],
            ['data/shape mismatch', { data: new Float64Array(size - 1), shape }, /values/],
          ];
          for (const [what, x, msg] of bad) {
            for (const training of [true, false]) {
              expect(() => n.forward(x, { training }), what).toThrow(NormalizationError);
              expect(() => n.forward(x, { training }), what).toThrow(msg);
              expect(snapshot(n), what).toBe(before);
            }
          }
          // a bad dy is refused too, and the last forward's cache still serves a good one
          n.forward(randomTensor(new Rng(11), shape, 1, 2));
          const afterForward = snapshot(n);
          expect(() => n.backward(randomTensor(new Rng(1), [shape[0] + 1, ...shape.slice(1)]))).toThrow(
            NormalizationError,
          );
          const dyNaN = randomTensor(new Rng(1), shape);
          dyNaN.data[1] = NaN;
          expect(() => n.backward(dyNaN)).toThrow(/NaN/);
          expect(snapshot(n)).toBe(afterForward);
          expect(n.backward(randomTensor(new Rng(12), shape)).data.every(Number.isFinite)).toBe(true);
        });
      },
    );

    if (entry.traits.needsBatchStatistics) {
      it('refuses one value per channel in training (as PyTorch) without touching its state', () => {
        const n = entry.create({ channels: C });
        const before = JSON.stringify(n.state());
        expect(() => n.forward(randomTensor(new Rng(1), [1, C]))).toThrow(
          /Expected more than 1 value per channel when training/,
        );
        expect(() => n.forward(randomTensor(new Rng(1), [1, C, 1]))).toThrow(NormalizationError);
        expect(JSON.stringify(n.state())).toBe(before);
        // inference with running statistics is fine on a single value
        expect(n.forward(randomTensor(new Rng(1), [1, C]), { training: false }).shape).toEqual([1, C]);
      });
    }
    if (entry.traits.needsWindows) {
      it('refuses [N, C] and L = 1 input with a clear error', () => {
        const n = entry.create({ channels: C, length: L });
        expect(() => n.forward(randomTensor(new Rng(1), [2, C]))).toThrow(/\[N, C, L\] with L > 1/);
        expect(() => n.forward(randomTensor(new Rng(1), [2, C, 1]))).toThrow(/\[N, C, L\] with L > 1/);
      });
    }
    if (entry.gradientCheck) {
      it('documents why its gradient check uses a special configuration', () => {
        expect(entry.gradientCheck!.why.length).toBeGreaterThan(40);
      });
    }
  });
}
