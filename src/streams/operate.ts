import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';

/** What an operator does with each notification of its source. */
export interface OperatorHandlers<T> {
  /** Handle one value. A throw becomes an error of the output stream (the source is unsubscribed). */
  next(value: T): void;
  /** Source completed. Default: complete the destination. A throw becomes a stream error. */
  complete?(): void;
  /** Source errored. Default: forward the error. */
  error?(err: unknown): void;
  /** Release timers and buffers. Runs exactly once: on complete, error or unsubscribe. */
  finalize?(): void;
}

/**
 * The one operator skeleton every stream operator here is built on (after RxJS's internal `operate`):
 * `(source) => new Observable(...)`, each handler wrapped so that a throw in user code or in the operator
 * becomes an error notification instead of escaping into the producer, and `finalize` run once on teardown so
 * timers and buffers never outlive the subscription.
 *
 * @example
 * const double = operate<number, number>((out) => ({ next: (v) => out.next(2 * v) }));
 */
export function operate<T, R>(
  setup: (destination: Subscriber<R>) => OperatorHandlers<T>,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((destination) => {
      // A throw from setup itself is caught by Observable's subscribe and sent as an error.
      const handlers = setup(destination);
      let finalized = false;
      const finalize = (): void => {
        if (finalized) return;
        finalized = true;
        handlers.finalize?.();
      };
      const fail = (err: unknown): void => {
        destination.error(err);
      };
      const subscription = source.subscribe({
        next: (value) => {
          if (destination.closed) return;
          try {
            handlers.next(value);
          } catch (err) {
            fail(err);
          }
        },
        error: (err) => {
          if (destination.closed) return;
          try {
            if (handlers.error) handlers.error(err);
            else destination.error(err);
          } catch (inner) {
            fail(inner);
          }
        },
        complete: () => {
          if (destination.closed) return;
          try {
            if (handlers.complete) handlers.complete();
            else destination.complete();
          } catch (err) {
            fail(err);
          }
        },
      });
      return () => {
        subscription.unsubscribe();
        finalize();
      };
    });
}

/** Run `fn` and send a throw to `destination` as an error; returns false when it threw. */
export function guarded<R>(destination: Subscriber<R>, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    destination.error(err);
    return false;
  }
}
