import { describe, expect, it } from 'vitest';
import { Subject, firstValueFrom, from, toArray } from 'rxjs';
import { operate } from '../../../src/streams/operate.js';

describe('operate', () => {
  it('turns a throw in next into a stream error, unsubscribes the source and finalizes once', () => {
    const src = new Subject<number>();
    let finalized = 0;
    let error: unknown = null;
    src
      .pipe(
        operate<number, number>((out) => ({
          next(v) {
            if (v === 2) throw new Error('bad value');
            out.next(v);
          },
          finalize: () => finalized++,
        })),
      )
      .subscribe({ error: (e) => (error = e) });
    src.next(1);
    src.next(2);
    expect((error as Error).message).toBe('bad value');
    expect(src.observed).toBe(false);
    expect(finalized).toBe(1);
  });

  it('a throw in complete becomes an error; a throw in setup too', async () => {
    const failingComplete = operate<number, number>(() => ({
      next() {},
      complete() {
        throw new Error('at complete');
      },
    }));
    await expect(firstValueFrom(from([1]).pipe(failingComplete, toArray()))).rejects.toThrow('at complete');
    const failingSetup = operate<number, number>(() => {
      throw new Error('at setup');
    });
    await expect(firstValueFrom(from([1]).pipe(failingSetup))).rejects.toThrow('at setup');
  });

  it('forwards values, completion and errors by default, finalizing on unsubscribe', () => {
    const src = new Subject<number>();
    const seen: number[] = [];
    let finalized = 0;
    const sub = src
      .pipe(operate<number, number>((out) => ({ next: (v) => out.next(v * 2), finalize: () => finalized++ })))
      .subscribe((v) => seen.push(v));
    src.next(1);
    src.next(2);
    sub.unsubscribe();
    src.next(3);
    expect(seen).toEqual([2, 4]);
    expect(finalized).toBe(1);
  });
});
