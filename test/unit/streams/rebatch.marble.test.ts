/** Marble tests of rebatch in every policy, the time-based ones in virtual time (RxJS TestScheduler). */
import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { rebatch } from '../../../src/streams/rebatch.js';
import { poissonSizes } from '../../../src/streams/rebatch.js';

const scheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    if (process.env.MARBLE_DEBUG)
      console.log(
        JSON.stringify(
          actual.map((n: { frame: number; notification: unknown }) => [n.frame, n.notification]),
        ),
      );
    expect(actual).toEqual(expected);
  });
const v = { a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', f: 'f', g: 'g' };

describe('rebatch (marbles)', () => {
  it("'arrival': one batch per emission, arrays passed through, empty arrays dropped", () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-b-c-d|', { a: 'x', b: ['y', 'z'], c: [], d: 'w' });
      expectObservable(src.pipe(rebatch<string>('arrival'))).toBe('a-b---d|', {
        a: ['x'],
        b: ['y', 'z'],
        d: ['w'],
      });
      expectSubscriptions(src.subscriptions).toBe('^------!');
    });
  });

  it('{ count }: full batches as they fill, the remainder on complete; waits for a full batch without a max wait', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-b-c-d 100ms e|', v);
      expectObservable(src.pipe(rebatch({ count: 2 }))).toBe('--x---y 100ms -(z|)', {
        x: ['a', 'b'],
        y: ['c', 'd'],
        z: ['e'],
      });
      expectSubscriptions(src.subscriptions).toBe('^ 107ms !');
    });
  });

  it('{ count, maxWaitMs }: a partial batch is flushed once no item arrived for maxWaitMs', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      // a at 0, b at 2, then quiet: flushed 5 ms after b (frame 7); c d e f fill a batch at once; g waits alone.
      const src = cold('a-b 10ms (cdef) 20ms g 30ms |', v);
      expectObservable(src.pipe(rebatch({ count: 4, maxWaitMs: 5 }))).toBe('7ms x 5ms y 30ms z 25ms |', {
        x: ['a', 'b'],
        y: ['c', 'd', 'e', 'f'],
        z: ['g'],
      });
      expectSubscriptions(src.subscriptions).toBe('^ 69ms !');
    });
  });

  it('{ count, maxWaitMs }: items that keep arriving within maxWaitMs hold the batch (an idle gap, not an age)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 3ms b 3ms c 3ms d 20ms |', v);
      // gaps of 4 frames < maxWaitMs 5: a b c d fill the batch of 4 at frame 12, no flush by time before.
      expectObservable(src.pipe(rebatch({ count: 4, maxWaitMs: 5 }))).toBe('12ms x 20ms |', {
        x: ['a', 'b', 'c', 'd'],
      });
    });
  });

  it('{ count, maxWaitMs, maxAgeMs }: a busy but slow stream is flushed when its oldest item is maxAgeMs old', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a 3ms b 3ms c 3ms d 20ms |', v);
      expectObservable(src.pipe(rebatch({ count: 10, maxWaitMs: 5, maxAgeMs: 6 }))).toBe(
        '6ms x 7ms y 18ms |',
        { x: ['a', 'b'], y: ['c', 'd'] },
      );
    });
  });

  it('{ timeMs, maxCount }: whatever arrived within timeMs of the first item, or maxCount items', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-b 10ms (cde) 3ms f|', v);
      expectObservable(src.pipe(rebatch({ timeMs: 5, maxCount: 2 }))).toBe('--x 10ms y 4ms z 3ms (w|)', {
        x: ['a', 'b'],
        y: ['c', 'd'],
        z: ['e'],
        w: ['f'],
      });
      expectSubscriptions(src.subscriptions).toBe('^ 21ms !');
    });
  });

  it('{ poisson, seed, maxWaitMs }: seeded sizes; the tail is flushed by time', () => {
    const sizes = poissonSizes(3, 7);
    const first = sizes();
    const values = 'abcdefg'.slice(0, first + 1).split('');
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold(`(${values.join('')}) 50ms |`, v);
      expectObservable(src.pipe(rebatch({ poisson: 3, seed: 7, maxWaitMs: 10 }))).toBe(
        `x 9ms y ${first + 3 + 50 - 11}ms |`,
        { x: values.slice(0, first), y: values.slice(first) },
      );
    });
  });

  it('dead letters ride along at weight 0 but start the clock', () => {
    const dl = { reason: 'bad_json', raw: '{' };
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-d 10ms |', { a: 'a', d: dl });
      expectObservable(src.pipe(rebatch({ count: 2, maxWaitMs: 4 }))).toBe('6ms x 6ms |', { x: ['a', dl] });
    });
  });

  it('flush$ flushes the batch in hand at once', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const flush$ = hot('---f---', { f: 1 }) as unknown as Subject<unknown>;
      const src = cold('ab---c|', v);
      expectObservable(src.pipe(rebatch({ count: 5 }, { flush$ }))).toBe('---x--(y|)', {
        x: ['a', 'b'],
        y: ['c'],
      });
    });
  });

  it('an error drops the buffer and unsubscribes; unsubscribing cancels the timer', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('ab--#', v);
      expectObservable(src.pipe(rebatch({ count: 5, maxWaitMs: 100 }))).toBe('----#');
      expectSubscriptions(src.subscriptions).toBe('^---!');
      const src2 = cold('ab-----', v);
      expectObservable(src2.pipe(rebatch({ count: 5, maxWaitMs: 10 })), '^--!').toBe('-------');
      expectSubscriptions(src2.subscriptions).toBe('^--!');
    });
  });
});
