import { Subject, map, merge, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import { operate } from './operate.js';

/** A value from one branch of a {@link fanOut}, labeled with the branch's name. */
export interface Labeled<R> {
  variant: string;
  value: R;
}

/**
 * Feed one source to several branches (model variants), subscribing to the source once, and merge what they
 * emit, labeled by variant name. Every branch sees every source value, the same object in the same order:
 * an array is passed as one frozen copy, so a branch cannot change what the others see. Branches receive each value in the
 * order given, so synchronous branches emit in that order too. The output completes when every branch has;
 * an error in any branch errors the output and unsubscribes the rest.
 *
 * Use it when variants differ in their pipeline (e.g. each its own `rebatch` policy over one shared stream);
 * when they differ only in the model, `prequential({ a, b })` does the same in one step.
 *
 * @example
 * decoded$.pipe(fanOut({ bn8: pipe(rebatch({ count: 8 }), prequential(bn)), ln8: pipe(rebatch({ count: 8 }), prequential(ln)) }))
 */
export function fanOut<T, R>(
  branches: Readonly<Record<string, OperatorFunction<T, R>>>,
): OperatorFunction<T, Labeled<R>> {
  const names = Object.keys(branches);
  if (names.length === 0) throw new ConfigError('fanOut needs at least one branch');
  for (const n of names)
    if (typeof branches[n] !== 'function')
      throw new ConfigError(`fanOut branch "${n}" is not an operator function`);
  return operate<T, Labeled<R>>((out) => {
    const hub = new Subject<T>();
    const merged = merge(
      ...names.map((variant) =>
        hub.pipe(
          branches[variant],
          map((value) => ({ variant, value })),
        ),
      ),
    );
    // Branches subscribe first, so none misses a value a synchronous source emits on subscription.
    const inner = merged.subscribe({
      next: (v) => out.next(v),
      error: (e: unknown) => out.error(e),
      complete: () => out.complete(),
    });
    return {
      // A frozen copy: the source keeps its own array, and no branch can change what the others see.
      next: (v) => hub.next(Array.isArray(v) ? (Object.freeze(v.slice()) as T) : v),
      error: (e) => hub.error(e),
      complete: () => hub.complete(),
      finalize: () => inner.unsubscribe(),
    };
  });
}
