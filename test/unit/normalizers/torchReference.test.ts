/**
 * BatchNorm, LayerNorm, InstanceNorm and GroupNorm against PyTorch 1.13 in float64. The fixtures come from
 * test/fixtures/normalizers/generate.py (Debian's python3-torch); each case replays the same forward/backward
 * steps and compares outputs, input gradients, γ/β gradients and running statistics after every step.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../../src/core/tensor.js';
import {
  BatchNorm,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  type Normalizer,
} from '../../../src/normalizers/index.js';

interface Step {
  training: boolean;
  shape: number[];
  x: number[];
  dy: number[];
  y: number[];
  dx: number[];
  dgamma?: number[];
  dbeta?: number[];
  runningMean?: number[];
  runningVar?: number[];
  numBatchesTracked?: number;
}
interface Case {
  name: string;
  kind: 'batch' | 'layer' | 'instance' | 'group';
  options: Record<string, unknown>;
  gamma: number[] | null;
  beta: number[] | null;
  steps: Step[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/normalizers/normalizers.json', import.meta.url), 'utf8'),
) as {
  torch: string;
  cases: Case[];
};

/** Relative tolerance of every comparison: ‖a − b‖∞ ≤ RTOL · max(‖b‖∞, tiny) per array. */
const RTOL = 1e-9;

function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  const tol = RTOL * Math.max(scale, 1e-300);
  expect(worst, `${what}: max |diff| ${worst} at ${at} exceeds ${tol} (scale ${scale})`).toBeLessThanOrEqual(
    tol,
  );
}

function build(c: Case): Normalizer {
  const o = c.options as never;
  switch (c.kind) {
    case 'batch':
      return new BatchNorm(o);
    case 'layer':
      return new LayerNorm(o);
    case 'instance':
      return new InstanceNorm(o);
    case 'group':
      return new GroupNorm(o);
  }
}

function runningStats(n: Normalizer): { mean: Float64Array; var: Float64Array } | null {
  if (n instanceof BatchNorm || n instanceof InstanceNorm) return { mean: n.runningMean, var: n.runningVar };
  return null;
}

describe(`normalizers vs PyTorch ${fixture.torch} (float64)`, () => {
  it('has cases for all four layers', () => {
    const kinds = new Set(fixture.cases.map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['batch', 'group', 'instance', 'layer']);
  });

  describe.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    it('matches y, dx, dgamma, dbeta and running statistics at every step', () => {
      const n = build(c);
      if (c.gamma !== null) {
        n.params.gamma!.set(c.gamma);
        n.params.beta!.set(c.beta!);
      } else {
        expect(n.params.gamma).toBeUndefined();
      }
      c.steps.forEach((s, i) => {
        const tag = `${c.name} step ${i} (${s.training ? 'train' : 'eval'} [${s.shape.join(',')}])`;
        const x: Tensor = tensor(s.x, s.shape);
        const y = n.forward(x, { training: s.training });
        expect(y.shape).toEqual(s.shape);
        expectClose(y.data, s.y, `${tag} y`);
        const dx = n.backward(tensor(s.dy, s.shape));
        expectClose(dx.data, s.dx, `${tag} dx`);
        if (s.dgamma) {
          expectClose(n.grads.gamma!, s.dgamma, `${tag} dgamma`);
          expectClose(n.grads.beta!, s.dbeta!, `${tag} dbeta`);
        }
        if (s.runningMean) {
          const rs = runningStats(n)!;
          expectClose(rs.mean, s.runningMean, `${tag} runningMean`);
          expectClose(rs.var, s.runningVar!, `${tag} runningVar`);
        }
        if (c.kind === 'batch' && s.numBatchesTracked !== undefined)
          expect((n as BatchNorm).numBatchesTracked).toBe(s.numBatchesTracked);
      });
    });
  });
});
