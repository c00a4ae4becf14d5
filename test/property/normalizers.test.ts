/**
 * Identities between the normalizers (fast-check): GroupNorm(1) = LayerNorm over [C, L] with a per-channel
 * affine, GroupNorm(C) = InstanceNorm, per-sample layers ignore the other samples while BatchNorm does not,
 * batch parameter gradients are sums of per-sample ones, and StandardScaler statistics do not depend on
 * how the stream was split.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/core/tensor.js';
import {
  BatchNorm,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  StandardScaler,
  createNormalizer,
  type Normalizer,
} from '../../src/normalizers/index.js';

const TOL = 1e-10;

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = TOL): boolean {
  if (a.length !== b.length) return false;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol * scale)) return false;
  return true;
}

const dims = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  c: fc.integer({ min: 1, max: 6 }),
  l: fc.integer({ min: 2, max: 6 }),
});
const value = fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true });

/** A case: dims plus input, upstream gradient and per-channel affine drawn to size. */
const caseArb = dims.chain(({ n, c, l }) =>
  fc.record({
    n: fc.constant(n),
    c: fc.constant(c),
    l: fc.constant(l),
    x: fc.array(value, { minLength: n * c * l, maxLength: n * c * l }),
    dy: fc.array(value, { minLength: n * c * l, maxLength: n * c * l }),
    gamma: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: c, maxLength: c }),
    beta: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: c, maxLength: c }),
  }),
);

const t = (data: number[], shape: number[]): Tensor => ({ data: Float64Array.from(data), shape });

describe('normalizer identities', () => {
  it('GroupNorm(groups = 1) equals LayerNorm over [C, L] with the affine repeated over L', () => {
    fc.assert(
      fc.property(caseArb, ({ n, c, l, x, dy, gamma, beta }) => {
        const gn = new GroupNorm({ groups: 1, channels: c });
        gn.params.gamma!.set(gamma);
        gn.params.beta!.set(beta);
        const ln = new LayerNorm({ shape: [c, l] });
        for (let j = 0; j < c; j++) {
          ln.params.gamma!.fill(gamma[j], j * l, (j + 1) * l);
          ln.params.beta!.fill(beta[j], j * l, (j + 1) * l);
        }
        const shape = [n, c, l];
        expect(close(gn.forward(t(x, shape)).data, ln.forward(t(x, shape)).data)).toBe(true);
        expect(close(gn.backward(t(dy, shape)).data, ln.backward(t(dy, shape)).data)).toBe(true);
        const dgLn = new Float64Array(c);
        const dbLn = new Float64Array(c);
        for (let j = 0; j < c; j++) {
          for (let k = 0; k < l; k++) {
            dgLn[j] += ln.grads.gamma![j * l + k];
            dbLn[j] += ln.grads.beta![j * l + k];
          }
        }
        expect(close(gn.grads.gamma!, dgLn, 1e-9)).toBe(true);
        expect(close(gn.grads.beta!, dbLn, 1e-9)).toBe(true);
      }),
      { numRuns: 150, seed: 1 },
    );
  });

  it('GroupNorm(groups = C) equals InstanceNorm with the same affine', () => {
    fc.assert(
      fc.property(caseArb, ({ n, c, l, x, dy, gamma, beta }) => {
        const gn = new GroupNorm({ groups: c, channels: c });
        const inorm = new InstanceNorm({ channels: c, affine: true });
        for (const m of [gn, inorm]) {
          m.params.gamma!.set(gamma);
          m.params.beta!.set(beta);
        }
        const shape = [n, c, l];
        for (const training of [true, false]) {
          expect(
            close(gn.forward(t(x, shape), { training }).data, inorm.forward(t(x, shape), { training }).data),
          ).toBe(true);
          expect(close(gn.backward(t(dy, shape)).data, inorm.backward(t(dy, shape)).data)).toBe(true);
          expect(close(gn.grads.gamma!, inorm.grads.gamma!)).toBe(true);
          expect(close(gn.grads.beta!, inorm.grads.beta!)).toBe(true);
        }
      }),
      { numRuns: 150, seed: 2 },
    );
  });

  it("a sample's output under LayerNorm, InstanceNorm and GroupNorm ignores the other samples; BatchNorm's does not", () => {
    fc.assert(
      fc.property(
        dims.filter((d) => d.n >= 2),
        fc.integer({ min: 0, max: 1000 }),
        ({ n, c, l }, seed) => {
          const size = n * c * l;
          const x = Float64Array.from({ length: size }, (_, i) => Math.sin(seed + i * 1.7) * 4 + (i % 3));
          const other = x.slice();
          // change every sample but the first
          for (let i = c * l; i < size; i++) other[i] = other[i] * 3 + 5;
          const shape = [n, c, l];
          const first = (m: Normalizer, data: Float64Array): Float64Array =>
            m.forward({ data, shape }).data.slice(0, c * l);
          const groups = c % 2 === 0 ? 2 : 1;
          for (const spec of ['layer', 'instance', `group:${groups}`]) {
            const m = createNormalizer(spec, { channels: c, length: l })!;
            expect(m.perSample).toBe(true);
            expect(Array.from(first(m, other))).toEqual(Array.from(first(m, x)));
          }
          const bn = new BatchNorm({ channels: c });
          expect(bn.perSample).toBe(false);
          expect(close(first(bn, other), first(bn, x), 1e-6)).toBe(false);
        },
      ),
      { numRuns: 100, seed: 3 },
    );
  });

  it('per-sample layers: batch parameter gradients are the sums of the per-sample ones', () => {
    fc.assert(
      fc.property(caseArb, ({ n, c, l, x, dy }) => {
        const groups = c % 2 === 0 ? 2 : 1;
        for (const spec of ['layer', 'instance', `group:${groups}`]) {
          const whole = createNormalizer(spec, { channels: c, length: l })!;
          whole.forward(t(x, [n, c, l]));
          const dxWhole = whole.backward(t(dy, [n, c, l]));
          const single = createNormalizer(spec, { channels: c, length: l })!;
          const sumG = new Float64Array(whole.grads.gamma!.length);
          const dxParts: number[] = [];
          for (let i = 0; i < n; i++) {
            const part = (a: number[]): number[] => a.slice(i * c * l, (i + 1) * c * l);
            single.forward(t(part(x), [1, c, l]));
            dxParts.push(...single.backward(t(part(dy), [1, c, l])).data);
            single.grads.gamma!.forEach((g, j) => (sumG[j] += g));
          }
          expect(close(dxWhole.data, dxParts)).toBe(true);
          expect(close(whole.grads.gamma!, sumG, 1e-9)).toBe(true);
        }
      }),
      { numRuns: 80, seed: 4 },
    );
  });
});

describe('StandardScaler', () => {
  it('merged over arbitrary batch splits equals the one-pass result', () => {
    const arb = fc
      .record({ d: fc.integer({ min: 1, max: 5 }), rows: fc.integer({ min: 1, max: 60 }) })
      .chain(({ d, rows }) =>
        fc.record({
          d: fc.constant(d),
          data: fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), {
            minLength: d * rows,
            maxLength: d * rows,
          }),
          cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, rows - 1) }), { maxLength: 6 }),
          modes: fc.array(fc.constantFrom('one', 'batch', 'merge'), { minLength: 7, maxLength: 7 }),
        }),
      );
    fc.assert(
      fc.property(arb, ({ d, data, cuts, modes }) => {
        const rows = data.length / d;
        const bounds = [0, ...cuts.filter((c) => c < rows).sort((a, b) => a - b), rows];
        const split = new StandardScaler();
        bounds.slice(1).forEach((end, p) => {
          const start = bounds[p];
          if (end <= start) return;
          const part = Float64Array.from(data.slice(start * d, end * d));
          const mode = modes[p];
          if (mode === 'one')
            for (let i = 0; i < end - start; i++) split.learnOne(part.subarray(i * d, (i + 1) * d));
          else if (mode === 'batch') split.partialFit({ data: part, shape: [end - start, d] });
          else split.merge(new StandardScaler().partialFit({ data: part, shape: [end - start, d] }));
        });
        // one-pass two-pass reference
        const mean = new Float64Array(d);
        const variance = new Float64Array(d);
        for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / rows;
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < d; j++) variance[j] += (data[i * d + j] - mean[j]) ** 2 / rows;
        expect(split.count).toBe(rows);
        for (let j = 0; j < d; j++) {
          expect(Math.abs(split.mean[j] - mean[j])).toBeLessThanOrEqual(
            1e-9 * Math.max(1, Math.abs(mean[j])),
          );
          expect(Math.abs(split.variance[j] - variance[j])).toBeLessThanOrEqual(
            1e-9 * Math.max(1, variance[j]),
          );
        }
      }),
      { numRuns: 200, seed: 5 },
    );
  });
});
