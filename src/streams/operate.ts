import { Observable, Subscription, type Observer, type OperatorFunction, type Subscriber } from 'rxjs';

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
 * The subscriber an operator hands its source. It is a `Subscription` (so RxJS uses it as is, without
 * wrapping it in a subscriber of its own) that the destination owns: it is added to the destination before
 * the source is subscribed, so when the downstream unsubscribes (e.g. `take(1)` after its first value) this
 * subscriber is closed at once, and a synchronous source that checks `closed` between values (`range`,
 * `from(array)`) stops pulling. The same idea as RxJS's `createOperatorSubscriber`, built on public API only.
 */
class OperatorSubscriber<T> extends Subscription implements Observer<T> {
  private stopped = false;

  constructor(
    private readonly destination: Subscriber<unknown>,
    private readonly handlers: OperatorHandlers<T>,
  ) {
    super();
  }

  next(value: T): void {
    if (this.stopped || this.closed) return;
    try {
      this.handlers.next(value);
    } catch (err) {
      this.fail(err);
    }
  }

  error(err: unknown): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      if (this.handlers.error) this.handlers.error(err);
      else this.destination.error(err);
    } catch (inner) {
      this.destination.error(inner);
    }
    this.unsubscribe();
  }

  complete(): void {
    if (this.stopped || this.closed) return;
    this.stopped = true;
    try {
      if (this.handlers.complete) this.handlers.complete();
      else this.destination.complete();
    } catch (err) {
      this.destination.error(err);
    }
    // A handler may complete the destination later (e.g. after flushing a file): the destination then
    // unsubscribes this subscriber itself.
    if (this.destination.closed) this.unsubscribe();
  }

  private fail(err: unknown): void {
    this.stopped = true;
    this.destination.error(err);
    this.unsubscribe();
  }
}

/**
 * The one operator skeleton every stream operator here is built on (after RxJS's internal `operate` and
 * `createOperatorSubscriber`): `(source) => new Observable(...)`, with the source subscribed through a
 * subscriber the downstream owns, so unsubscription reaches even a synchronous source (`range(0, 1e5).pipe(op,
 * take(1))` pulls one value); each handler wrapped so that a throw in user code or in the operator becomes an
 * error notification instead of escaping into the producer; and `finalize` run once on teardown so timers and
 * buffers never outlive the subscription.
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
      const inner = new OperatorSubscriber<T>(destination, handlers);
      // finalize runs when the inner subscriber closes: on complete, error or the downstream's unsubscribe.
      if (handlers.finalize) {
        const finalize = handlers.finalize.bind(handlers);
        inner.add(() => finalize());
      }
      destination.add(inner);
      source.subscribe(inner);
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
