/**
 * BatchNorm, LayerNorm and GroupNorm check that x and dy are finite on their first reduction instead of
 * a separate scan. These tests pin what that must still guarantee: the culprit is named, nothing the
 * next backward reads is touched by a refused call, and an overflowing (but finite) sum is not refused.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng.js';
import type { Tensor } from '../../../src/core/tensor.js';
import { NormalizationError } from '../../../src/errors.js';
import { BatchNorm } from '../../../src/normalizers/batchNorm.js';
import { GroupNorm } from '../../../src/normalizers/groupNorm.js';
import { LayerNorm } from '../../../src/normalizers/layerNorm.js';
import type { Normalizer } from '../../../src/normalizers/normalizer.js';

const C = 4;
const L = 6;
const makers: [string, () => Normalizer][] = [
  ['BatchNorm', () => new BatchNorm({ channels: C })],
  ['LayerNorm', () => new LayerNorm({ shape: [C, L] })],
  ['GroupNorm', () => new GroupNorm({ groups: 2, channels: C })],
];

function random(seed: number, n: number): Tensor {
  const rng = new Rng(seed);
  return { data: Float64Array.from({ length: n * C * L }, () => 1 + rng.normal()), shape: [n, C, L] };
}

describe.each(makers)('%s finiteness check on the first reduction', (_name, make) => {
  it('names each non-finite value in x or dy, wherever it sits', () => {
    const n = make();
    const size = 3 * C * L;
    for (const at of [0, 7, size - 1]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const x = random(1, 3);
        x.data[at] = bad;
        expect(() => n.forward(x)).toThrow(NormalizationError);
        expect(() => n.forward(x)).toThrow(`non-finite input value ${String(bad)} at flat index ${at}`);
        n.forward(random(2, 3));
        const dy = random(3, 3);
        dy.data[at] = bad;
        expect(() => n.backward(dy)).toThrow(`non-finite dy value ${String(bad)} at flat index ${at}`);
      }
    }
  });

  it('a refused forward or backward (even of a larger batch) leaves the backward cache and gradients as they were', () => {
    const a = make();
    const b = make();
    a.forward(random(4, 2));
    b.forward(random(4, 2));
    const big = random(5, 5);
    big.data[big.data.length - 1] = NaN;
    expect(() => a.forward(big)).toThrow(/NaN/);
    const dyBad = random(6, 2);
    dyBad.data[dyBad.data.length - 1] = Infinity;
    expect(() => a.backward(dyBad)).toThrow(/Infinity/);
    const dy = random(7, 2);
    expect(Array.from(a.backward(dy).data)).toEqual(Array.from(b.backward(dy).data));
    expect(Array.from(a.grads.gamma!)).toEqual(Array.from(b.grads.gamma!));
    expect(Array.from(a.grads.beta!)).toEqual(Array.from(b.grads.beta!));
  });

  it('does not refuse finite values whose sums overflow', () => {
    const n = make();
    const x: Tensor = { data: new Float64Array(2 * C * L).fill(1.7e308), shape: [2, C, L] };
    for (let i = 0; i < x.data.length; i += 2) x.data[i] = 1e308;
    expect(() => n.forward(x)).not.toThrow();
    const dy: Tensor = { data: new Float64Array(2 * C * L).fill(1.7e308), shape: [2, C, L] };
    expect(() => n.backward(dy)).not.toThrow();
  });
});
