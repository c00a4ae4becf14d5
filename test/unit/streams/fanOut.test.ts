import { describe, expect, it, vi } from 'vitest';
import {
  Observable,
  Subject,
  firstValueFrom,
  from,
  map,
  pipe,
  tap,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import { ConfigError } from '../../../src/errors.js';
import { fanOut } from '../../../src/streams/fanOut.js';
import type { Envelope } from '../../../src/streams/event.js';
import { prequential } from '../../../src/streams/prequential.js';
import { rebatch } from '../../../src/streams/rebatch.js';
import { envelope, eventJson, logistic } from './helpers.js';

describe('fanOut', () => {
  it('subscribes to the source once and gives every variant identical batches, in order', async () => {
    let subscriptions = 0;
    const events = Array.from({ length: 30 }, (_, i) => envelope(eventJson(i), i));
    const source = new Observable<Envelope>((s) => {
      subscriptions++;
      events.forEach((e) => s.next(e));
      s.complete();
    });
    const seen: Record<string, Envelope[][]> = { a: [], b: [], c: [] };
    const models = { a: logistic(0.1), b: logistic(0.5), c: logistic(2) };
    const branch = (name: keyof typeof models): OperatorFunction<Envelope[], unknown> =>
      pipe(
        tap((batch: Envelope[]) => seen[name].push(batch)),
        prequential(models[name]),
      );
    const out = await firstValueFrom(
      source.pipe(
        rebatch({ poisson: 4, seed: 3 }),
        fanOut({ a: branch('a'), b: branch('b'), c: branch('c') }),
        toArray(),
      ),
    );
    expect(subscriptions).toBe(1);
    expect(seen.a.flat()).toEqual(events);
    expect(seen.b).toEqual(seen.a);
    expect(seen.c).toEqual(seen.a);
    seen.a.forEach((batch, k) => {
      expect(seen.b[k]).toBe(batch); // the very same object
      expect(Object.isFrozen(batch)).toBe(true);
    });
    expect(models.a.learnCalls).toEqual(models.b.learnCalls);
    // Synchronous branches: per input, outputs in branch order.
    expect(out.slice(0, 6).map((o) => o.variant)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('lets each variant batch the shared stream its own way', async () => {
    const events = Array.from({ length: 10 }, (_, i) => i);
    const out = await firstValueFrom(
      from(events).pipe(
        fanOut({ two: rebatch<number>({ count: 2 }), five: rebatch<number>({ count: 5 }) }),
        toArray(),
      ),
    );
    expect(out.filter((o) => o.variant === 'two').map((o) => o.value)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
    ]);
    expect(out.filter((o) => o.variant === 'five').map((o) => o.value)).toEqual([
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
    ]);
  });

  it('a branch that mutates a shared batch fails loudly instead of changing what the others see', async () => {
    const mutate = map((b: number[]) => b.push(99));
    const sourceArray = [1, 2];
    const err = await firstValueFrom(
      from([sourceArray]).pipe(fanOut({ ok: map((b: number[]) => b.length), bad: mutate }), toArray()),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(Object.isFrozen(sourceArray)).toBe(false); // the source's own array is left alone
  });

  it('an error in one branch errors the output and unsubscribes the source; unsubscribe tears down timers', () => {
    vi.useFakeTimers();
    try {
      const src = new Subject<number>();
      let error: unknown = null;
      src
        .pipe(
          fanOut({
            slow: rebatch<number>({ timeMs: 1000 }),
            boom: map((v: number) => {
              if (v === 2) throw new Error('branch failed');
              return [v];
            }),
          }),
        )
        .subscribe({ error: (e) => (error = e) });
      src.next(1);
      expect(vi.getTimerCount()).toBe(1);
      src.next(2);
      expect((error as Error).message).toBe('branch failed');
      expect(src.observed).toBe(false);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects an empty or malformed branch set', () => {
    expect(() => fanOut({})).toThrow(ConfigError);
    expect(() => fanOut({ a: 3 as never })).toThrow(/branch "a"/);
  });
});
