import { meanOver } from './meanOver.js';

/** Index of the largest probability; the first one on ties (as numpy's argmax). */
export function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

/** 0 when the most probable class is y, else 1. */
export function zeroOneError(proba: ArrayLike<number>, y: number): number {
  return argmax(proba) === y ? 0 : 1;
}

/** 1 − accuracy of a batch of predictions (NaN for an empty batch). */
export function errorRate(proba: readonly ArrayLike<number>[], y: readonly number[]): number {
  return meanOver('errorRate', proba, y, zeroOneError);
}
