/**
 * A model whose implementation a replica swaps when it folds in what the others learned: the pipeline
 * (prequential copies its variants once) keeps one object, and every call goes to the current model.
 */
import type { OnlineModel } from '../models/types.js';

/** The handle a replica keeps to swap the model behind `model`. */
export interface ModelSlot {
  readonly model: OnlineModel;
  current(): OnlineModel;
  swap(next: OnlineModel): void;
}

/**
 * Wraps `initial` so that `swap(next)` changes what every later call reaches. Properties and methods are read
 * from the current model (a classifier stays a classifier: `predictProbaMany` exists iff the current has it).
 */
export function modelSlot(initial: OnlineModel): ModelSlot {
  let inner = initial;
  const model = new Proxy({} as OnlineModel, {
    get(_t, prop) {
      const v = (inner as unknown as Record<string | symbol, unknown>)[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(inner) : v;
    },
    has: (_t, prop) => prop in inner,
    set(_t, prop, value) {
      (inner as unknown as Record<string | symbol, unknown>)[prop] = value;
      return true;
    },
  });
  return {
    model,
    current: () => inner,
    swap(next) {
      if (next.kind !== inner.kind) {
        throw new TypeError(`modelSlot: cannot swap a ${inner.kind} for a ${next.kind}`);
      }
      inner = next;
    },
  };
}
