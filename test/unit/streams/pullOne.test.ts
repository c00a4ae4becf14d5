/**
 * Unsubscription reaches synchronous sources: `range(0, 1e5).pipe(op, take(1))` pulls only what `op` needs
 * for its first output, for every operator built on `operate` (as RxJS's own `map` pulls 1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastValueFrom, map, range, take, tap, toArray, type OperatorFunction } from 'rxjs';
import { createRegistry } from '../../../src/metrics/createRegistry.js';
import { checkpoint } from '../../../src/streams/checkpoint.js';
import type { CheckpointStore } from '../../../src/streams/checkpointStore.js';
import { decodeEvents } from '../../../src/streams/decodeEvents.js';
import { fanOut } from '../../../src/streams/fanOut.js';
import { instrument } from '../../../src/streams/instrument.js';
import { operate } from '../../../src/streams/operate.js';
import { prequential, type PrequentialResult } from '../../../src/streams/prequential.js';
import { poissonSizes, rebatch } from '../../../src/streams/rebatch.js';
import { toRecording } from '../../../src/streams/toRecording.js';
import { envelope, eventJson, logistic, raw } from './helpers.js';

const N = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'sn-pull-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How many values `op` pulls from `range(0, N)` (mapped by `input`) before `take(1)` unsubscribes. */
async function pulled<I, O>(input: (i: number) => I, op: OperatorFunction<I, O>): Promise<number> {
  let n = 0;
  const out = await lastValueFrom(
    range(0, N).pipe(
      tap(() => n++),
      map(input),
      op,
      take(1),
      toArray(),
    ),
  );
  expect(out).toHaveLength(1);
  return n;
}

const rawEvent = (i: number) => raw(JSON.stringify(eventJson(i)), i);
const batchOf = (i: number) => [envelope(eventJson(i), i)];

describe('operators built on operate stop a synchronous source when the downstream unsubscribes', () => {
  it('operate itself, like RxJS map', async () => {
    expect(
      await pulled(
        (i) => i,
        map((v) => v),
      ),
    ).toBe(1);
    expect(
      await pulled(
        (i) => i,
        operate<number, number>((out) => ({ next: (v) => out.next(v) })),
      ),
    ).toBe(1);
  });

  it('decodeEvents', async () => {
    expect(await pulled(rawEvent, decodeEvents())).toBe(1);
  });

  it('rebatch in every policy', async () => {
    expect(await pulled((i) => i, rebatch('arrival'))).toBe(1);
    expect(await pulled((i) => i, rebatch({ count: 7 }))).toBe(7);
    expect(await pulled((i) => i, rebatch({ count: 7, maxWaitMs: 50, maxAgeMs: 80 }))).toBe(7);
    expect(await pulled((i) => i, rebatch({ timeMs: 1000, maxCount: 5 }))).toBe(5);
    const first = poissonSizes(6, 3)();
    expect(await pulled((i) => i, rebatch({ poisson: 6, seed: 3 }))).toBe(first);
  });

  it('prequential', async () => {
    expect(await pulled(batchOf, prequential(logistic()))).toBe(1);
  });

  it('fanOut', async () => {
    expect(await pulled((i) => i, fanOut({ a: map((v: number) => v), b: map((v: number) => -v) }))).toBe(1);
  });

  it('instrument', async () => {
    let n = 0;
    const model = logistic();
    const out = await lastValueFrom(
      range(0, N).pipe(
        map(batchOf),
        prequential(model),
        tap(() => n++),
        instrument(createRegistry(), { mode: 'replay' }),
        take(1),
        toArray(),
      ),
    );
    expect(out).toHaveLength(1);
    expect(n).toBe(1);
  });

  it('toRecording', async () => {
    expect(await pulled(rawEvent, toRecording(join(dir, 'pull.jsonl')))).toBe(1);
  });

  it('checkpoint: a synchronous throw (results out of step with the models) stops the source at once', async () => {
    const store: CheckpointStore = {
      save: () => Promise.reject(new Error('never called')),
      load: () => Promise.resolve(null),
    };
    let n = 0;
    const bad = (i: number): PrequentialResult =>
      ({
        batch: i,
        messages: 1,
        offsets: { 't:0': String(i + 1) },
        models: {},
        progress: { batches: i + 2 },
        pending: [],
        variants: [],
      }) as unknown as PrequentialResult;
    await expect(
      lastValueFrom(
        range(0, N).pipe(
          tap(() => n++),
          map(bad),
          checkpoint(store, { everyEvents: 1 }),
        ),
      ),
    ).rejects.toThrow(/put checkpoint\(\) directly after prequential\(\)/);
    expect(n).toBe(1);
  });
});
