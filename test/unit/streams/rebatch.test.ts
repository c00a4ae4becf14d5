import { afterEach, describe, expect, it, vi } from 'vitest';
import { Subject, firstValueFrom, from, toArray } from 'rxjs';
import { ConfigError } from '../../../src/errors.js';
import { poissonSizes, rebatch } from '../../../src/streams/rebatch.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('rebatch', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("'arrival' passes arrays through and wraps single items", async () => {
    const out = await firstValueFrom(
      from<(number | number[])[]>([[1, 2, 3], 4, [], [5]]).pipe(rebatch<number>('arrival'), toArray()),
    );
    expect(out).toEqual([[1, 2, 3], [4], [5]]);
  });

  it('{ count } cuts exact sizes across arrival batches and flushes the remainder on complete', async () => {
    const out = await firstValueFrom(
      from([[0, 1, 2, 3, 4], [5, 6], 7, [8, 9, 10]]).pipe(rebatch<number>({ count: 4 }), toArray()),
    );
    expect(out).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9, 10],
    ]);
  });

  it('dead letters ride along without counting, so poison does not shift event batches', async () => {
    const dl = (o: number) => ({
      origin: { topic: 't', partition: 0, offset: String(o), timestamp: 0 },
      key: null,
      reason: 'bad_json',
      detail: '',
      raw: '',
    });
    type Item = { n: number } | ReturnType<typeof dl>;
    const items: Item[] = [{ n: 0 }, dl(1), { n: 1 }, { n: 2 }, dl(2), dl(3), { n: 3 }, dl(4)];
    const out = await firstValueFrom(from(items).pipe(rebatch<Item>({ count: 2 }), toArray()));
    const eventsOnly = out.map((b) => b.filter((i): i is { n: number } => 'n' in i).map((i) => i.n));
    expect(eventsOnly).toEqual([[0, 1], [2, 3], []]);
    expect(out.flat()).toEqual(items);
  });

  it('{ poisson, seed } is deterministic per seed and never emits an empty batch', async () => {
    const input = range(500);
    const run = () => firstValueFrom(from(input).pipe(rebatch<number>({ poisson: 4, seed: 7 }), toArray()));
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.flat()).toEqual(input);
    expect(a.every((batch) => batch.length >= 1)).toBe(true);
    const other = await firstValueFrom(from(input).pipe(rebatch<number>({ poisson: 4, seed: 8 }), toArray()));
    expect(other.map((x) => x.length)).not.toEqual(a.map((x) => x.length));
    // Batch sizes follow poissonSizes exactly.
    const next = poissonSizes(4, 7);
    expect(a.slice(0, -1).map((x) => x.length)).toEqual(a.slice(0, -1).map(() => next()));
  });

  it('skipBatches continues the poisson size sequence where a previous run stopped', async () => {
    const input = range(300);
    const whole = await firstValueFrom(from(input).pipe(rebatch<number>({ poisson: 3, seed: 9 }), toArray()));
    const k = 10;
    const done = whole.slice(0, k).flat().length;
    const rest = await firstValueFrom(
      from(input.slice(done)).pipe(rebatch<number>({ poisson: 3, seed: 9 }, { skipBatches: k }), toArray()),
    );
    expect(rest).toEqual(whole.slice(k));
  });

  it('poisson sizes have the requested mean', () => {
    for (const mean of [1, 2.5, 8, 64]) {
      const next = poissonSizes(mean, 123);
      let sum = 0;
      let min = Infinity;
      const n = 20_000;
      for (let i = 0; i < n; i++) {
        const s = next();
        sum += s;
        min = Math.min(min, s);
      }
      // Standard error of the mean is sqrt((mean-1)/n) <= 0.06; allow 5 of them.
      expect(Math.abs(sum / n - mean)).toBeLessThan(5 * Math.sqrt(Math.max(mean - 1, 1e-9) / n) + 1e-12);
      expect(min).toBeGreaterThanOrEqual(1);
    }
  });

  it('{ timeMs } flushes on the timer and early at maxCount', async () => {
    vi.useFakeTimers();
    const src = new Subject<number>();
    const seen: number[][] = [];
    let done = false;
    src
      .pipe(rebatch<number>({ timeMs: 100, maxCount: 3 }))
      .subscribe({ next: (b) => seen.push(b), complete: () => (done = true) });
    src.next(1);
    src.next(2);
    vi.advanceTimersByTime(99);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([[1, 2]]);
    src.next(3);
    src.next(4);
    src.next(5);
    expect(seen).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    src.next(6);
    src.complete();
    expect(seen).toEqual([[1, 2], [3, 4, 5], [6]]);
    expect(done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('unsubscribing mid-batch clears the timer and drops the buffer', () => {
    vi.useFakeTimers();
    const src = new Subject<number>();
    const seen: number[][] = [];
    const sub = src.pipe(rebatch<number>({ timeMs: 1000 })).subscribe((b) => seen.push(b));
    src.next(1);
    expect(vi.getTimerCount()).toBe(1);
    sub.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    expect(src.observed).toBe(false);
    vi.advanceTimersByTime(5000);
    expect(seen).toEqual([]);
  });

  it('an error upstream clears the timer and is forwarded', () => {
    vi.useFakeTimers();
    const src = new Subject<number>();
    let error: unknown = null;
    src.pipe(rebatch<number>({ timeMs: 1000 })).subscribe({ error: (e) => (error = e) });
    src.next(1);
    src.error(new Error('boom'));
    expect((error as Error).message).toBe('boom');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects bad policies at construction, naming the value', () => {
    expect(() => rebatch({ count: 0 })).toThrow(/count must be an integer >= 1, got 0/);
    expect(() => rebatch({ timeMs: NaN })).toThrow(ConfigError);
    expect(() => rebatch({ poisson: 0.5, seed: 1 })).toThrow(/poisson mean must be a number >= 1, got 0.5/);
    expect(() => rebatch({ poisson: 3, seed: 1.5 })).toThrow(/seed/);
    expect(() => rebatch({ bogus: 1 } as never)).toThrow(ConfigError);
    expect(() => rebatch({ count: 2 }, { skipBatches: -1 })).toThrow(
      /skipBatches must be an integer >= 0, got -1/,
    );
  });
});
