import { Rng } from '../../../../src/core/rng.js';
import type { SoftmaxNet } from '../../../../src/models/nets/softmaxNet.js';
import type { Features } from '../../../../src/models/types.js';

/**
 * Seeded two-class window task: channel 0 carries a sine of 1 cycle (class 0) or 3 cycles (class 1) per
 * window with a random phase, the other channels and noise are distractors.
 */
export function windowTask(
  n: number,
  seed: number,
  channels = 2,
  length = 16,
): { X: number[][][]; Y: number[] } {
  const rng = new Rng(seed);
  const X: number[][][] = [];
  const Y: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.int(2);
    const f = y === 0 ? 1 : 3;
    const phase = rng.uniform(0, 2 * Math.PI);
    const amp = rng.uniform(0.5, 2);
    const w: number[][] = [];
    for (let c = 0; c < channels; c++) {
      const row: number[] = [];
      for (let t = 0; t < length; t++) {
        const s = c === 0 ? amp * Math.sin((2 * Math.PI * f * t) / length + phase) : 0;
        row.push(s + rng.normal(0, 0.3));
      }
      w.push(row);
    }
    X.push(w);
    Y.push(y);
  }
  return { X, Y };
}

/** Seeded vector task: class = sign of a fixed linear function of the first 3 inputs (plus noise inputs). */
export function vectorTask(n: number, seed: number, d = 6): { X: number[][]; Y: number[] } {
  const rng = new Rng(seed);
  const X: number[][] = [];
  const Y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: d }, () => rng.normal());
    X.push(x);
    Y.push(x[0] - 0.5 * x[1] + 0.8 * x[2] > 0 ? 1 : 0);
  }
  return { X, Y };
}

export interface GradCheckResult {
  maxRelError: number;
  worst: string;
  checked: number;
}

/**
 * Central finite differences of `net.gradients(X, Y).loss` against its analytic gradient, for every
 * parameter entry (or every `stride`-th). Relative error |a − n| / max(1e-4, |a| + |n|): the floor keeps
 * the round-off of the difference quotient (≈ 1e-16·|loss|/h ≈ 1e-11) from counting as an error where
 * the exact gradient is 0 (e.g. the conv bias under InstanceNorm).
 */
export function gradCheck(
  net: SoftmaxNet,
  X: Features[],
  Y: number[],
  h = 1e-5,
  stride = 1,
  only?: (name: string) => boolean,
): GradCheckResult {
  const { grads } = net.gradients(X, Y);
  let maxRelError = 0;
  let worst = '';
  let checked = 0;
  for (const name of Object.keys(grads)) {
    if (only && !only(name)) continue;
    const size = grads[name].length;
    for (let i = 0; i < size; i += stride) {
      const live = (): Float64Array => net.parameters().find((p) => p.name === name)!.value;
      const orig = live()[i];
      live()[i] = orig + h;
      const up = net.gradients(X, Y).loss;
      live()[i] = orig - h;
      const down = net.gradients(X, Y).loss;
      live()[i] = orig;
      const num = (up - down) / (2 * h);
      const ana = grads[name][i];
      const rel = Math.abs(ana - num) / Math.max(1e-4, Math.abs(ana) + Math.abs(num));
      checked++;
      if (rel > maxRelError) {
        maxRelError = rel;
        worst = `${name}[${i}] analytic ${ana} numeric ${num}`;
      }
    }
  }
  return { maxRelError, worst, checked };
}

/** Prequential accuracy: predict each batch, then learn it. */
export function prequentialAccuracy(net: SoftmaxNet, X: Features[], Y: number[], batch: number): number {
  let correct = 0;
  for (let i = 0; i < X.length; i += batch) {
    const xb = X.slice(i, i + batch);
    const yb = Y.slice(i, i + batch);
    const p = net.predictMany(xb);
    p.forEach((c, j) => (correct += c === yb[j] ? 1 : 0));
    if (xb.length === 1) net.learnOne(xb[0], yb[0]);
    else net.learnMany(xb, yb);
  }
  return correct / X.length;
}
