/**
 * Finite-difference gradient checks for normalizers. The loss is L(x, γ, β) = Σ w ⊙ forward(x), so its
 * gradient is backward(w). Every evaluation runs on a fresh copy of the layer rebuilt from one saved state,
 * so running statistics updated by one evaluation never leak into the next.
 */
import { Rng } from '../../../src/core/rng.js';
import type { Tensor } from '../../../src/core/tensor.js';
import type { Normalizer } from '../../../src/normalizers/index.js';
import { normalizerFromState } from '../../../src/normalizers/index.js';

export interface GradCheckResult {
  /** max |analytic − numeric| / max(1, max |numeric|) over x, γ, β. */
  maxRelError: number;
  worst: string;
}

export function randomTensor(rng: Rng, shape: number[], loc = 0, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = loc + scale * rng.normal();
  return { data, shape: [...shape] };
}

/** Central differences with step h on every input and parameter entry. */
export function gradCheck(
  layer: Normalizer,
  x: Tensor,
  training: boolean,
  seed = 1,
  h = 1e-5,
): GradCheckResult {
  const rng = new Rng(seed);
  const w = randomTensor(rng, x.shape);
  const saved = JSON.parse(JSON.stringify(layer.state()));
  const loss = (xv: Tensor, tweak?: (n: Normalizer) => void): number => {
    const n = normalizerFromState(saved);
    tweak?.(n);
    const y = n.forward(xv, { training });
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * w.data[i];
    return s;
  };
  const ref = normalizerFromState(saved);
  ref.forward(x, { training });
  const dx = ref.backward(w);
  let maxRel = 0;
  let worst = '';
  const compare = (what: string, analytic: number, numeric: number, scale: number): void => {
    const e = Math.abs(analytic - numeric) / Math.max(1, scale);
    if (e > maxRel || Number.isNaN(e)) {
      maxRel = Number.isNaN(e) ? Infinity : e;
      worst = `${what}: analytic ${analytic} numeric ${numeric}`;
    }
  };
  const numericX = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const xp = { data: x.data.slice(), shape: x.shape };
    xp.data[i] += h;
    const xm = { data: x.data.slice(), shape: x.shape };
    xm.data[i] -= h;
    numericX[i] = (loss(xp) - loss(xm)) / (2 * h);
  }
  const sx = Math.max(...Array.from(numericX, Math.abs));
  for (let i = 0; i < x.data.length; i++) compare(`dx[${i}]`, dx.data[i], numericX[i], sx);
  for (const name of ['gamma', 'beta'] as const) {
    const p = ref.params[name];
    const g = ref.grads[name];
    if (!p || !g) continue;
    for (let j = 0; j < p.length; j++) {
      const up = loss(x, (n) => (n.params[name]![j] += h));
      const down = loss(x, (n) => (n.params[name]![j] -= h));
      const num = (up - down) / (2 * h);
      compare(`d${name}[${j}]`, g[j], num, Math.abs(num));
    }
  }
  return { maxRelError: maxRel, worst };
}
