/**
 * Marble tests (RxJS TestScheduler, with expectSubscriptions) of the time-based parts of checkpoint() and
 * instrument(): when snapshots are captured (everyMs after un-saved progress, everyEvents at once, none after
 * unsubscription) and how often model statistics are read (modelEveryMs). Saves resolve as promises, after the
 * virtual timeline has run, so the acks are checked once the microtasks have settled.
 */
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { PipelineMetrics } from '../../../src/metrics/catalog.js';
import { createRegistry } from '../../../src/metrics/createRegistry.js';
import { checkpoint, type CheckpointAck } from '../../../src/streams/checkpoint.js';
import type { Checkpoint, CheckpointInput, CheckpointStore } from '../../../src/streams/checkpointStore.js';
import { instrument } from '../../../src/streams/instrument.js';
import { prequential, type PrequentialResult } from '../../../src/streams/prequential.js';
import { envelope, eventJson, logistic } from './helpers.js';

const scheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** What checkpoint() reads from a prequential result, for batch i (one message at offset i). */
function item(i: number): PrequentialResult {
  return {
    batch: i,
    messages: 1,
    offsets: { 't:0': String(i + 1) },
    models: {},
    progress: { batches: i + 1 },
    pending: [],
    variants: [],
  } as unknown as PrequentialResult;
}

function memoryStore(): CheckpointStore & { saved: CheckpointInput[] } {
  const saved: CheckpointInput[] = [];
  return {
    saved,
    save: (input) => {
      saved.push(input);
      return Promise.resolve({ ...input, sequence: saved.length, savedAt: 0 } as unknown as Checkpoint);
    },
    load: () => Promise.resolve(null),
  };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('checkpoint timing (marbles)', () => {
  it('captures everyMs after un-saved progress, on the scheduler; a quiet tail adds nothing', async () => {
    const ts = scheduler();
    const store = memoryStore();
    const captures: number[] = [];
    const acks: CheckpointAck[] = [];
    let completed = false;
    ts.run(({ cold, expectSubscriptions }) => {
      const src = cold('a 199ms b 999ms c 1999ms |', { a: item(0), b: item(1), c: item(2) });
      src
        .pipe(
          checkpoint(store, {
            everyMs: 1000,
            scheduler: ts,
            meta: () => {
              captures.push(ts.now());
              return {};
            },
          }),
        )
        .subscribe({ next: (a) => acks.push(a), complete: () => (completed = true) });
      // Subscribed once at 0. The source completed at 3200, but operate() releases it (and the operator's state)
      // only when the output completes, after the last save is durable: a promise, outside virtual time.
      expectSubscriptions(src.subscriptions).toBe('^');
    });
    // a at 0 arms the timer for 1000 (b at 200 joins it); c at 1200 arms it for 2000; nothing is unsaved at 3200.
    expect(captures).toEqual([1000, 2000]);
    await settle();
    expect(store.saved.map((s) => s.offsets)).toEqual([{ 't:0': '2' }, { 't:0': '3' }]);
    expect(acks.map((a) => [a.sequence, a.messages, a.final])).toEqual([
      [1, 2, false],
      [2, 3, true],
    ]);
    expect(completed).toBe(true);
  });

  it('everyEvents captures at the frame the count is reached; a newer snapshot replaces a queued one; completion saves the rest as final', async () => {
    const ts = scheduler();
    const store = memoryStore();
    const captures: number[] = [];
    const acks: CheckpointAck[] = [];
    ts.run(({ cold, expectSubscriptions }) => {
      const src = cold('a-b-c-d-e|', { a: item(0), b: item(1), c: item(2), d: item(3), e: item(4) });
      src
        .pipe(
          checkpoint(store, {
            everyEvents: 2,
            everyMs: Infinity,
            scheduler: ts,
            meta: () => {
              captures.push(ts.now());
              return {};
            },
          }),
        )
        .subscribe((a) => acks.push(a));
      expectSubscriptions(src.subscriptions).toBe('^'); // released after the final save (see above)
    });
    expect(captures).toEqual([2, 6, 9]);
    await settle();
    // The write of the first was in flight when the other two were captured: the final snapshot (5 messages)
    // replaced the queued one (4), which it covers, so two writes, in order, the last one final.
    expect(store.saved.map((s) => s.messages)).toEqual([2, 5]);
    expect(acks.map((a) => [a.messages, a.final])).toEqual([
      [2, false],
      [5, true],
    ]);
  });

  it('unsubscribing before the timer fires releases the source and cancels the timer: no capture', async () => {
    const ts = scheduler();
    const store = memoryStore();
    const captures: number[] = [];
    ts.run(({ cold, expectSubscriptions }) => {
      const src = cold('a 199ms b 5s |', { a: item(0), b: item(1) });
      const sub = src
        .pipe(
          checkpoint(store, {
            everyMs: 1000,
            scheduler: ts,
            meta: () => {
              captures.push(ts.now());
              return {};
            },
          }),
        )
        .subscribe();
      ts.schedule(() => sub.unsubscribe(), 500);
      expectSubscriptions(src.subscriptions).toBe('^ 499ms !');
    });
    await settle();
    expect(captures).toEqual([]);
    expect(store.saved).toEqual([]);
  });
});

describe('instrument throttle (marbles)', () => {
  it('reads model statistics at most every modelEveryMs of scheduler time, and once more on completion', () => {
    const ts = scheduler();
    const metrics = new PipelineMetrics(createRegistry({ defaultMetrics: false }));
    const reads: number[] = [];
    const original = metrics.observeModel.bind(metrics);
    metrics.observeModel = (...args: Parameters<PipelineMetrics['observeModel']>) => {
      reads.push(ts.now());
      return original(...args);
    };
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const batch = (i: number) => [envelope(eventJson(i), i)];
      const base = cold('a 4ms b 4ms c 4ms d 9ms e|', {
        a: batch(0),
        b: batch(1),
        c: batch(2),
        d: batch(3),
        e: batch(4),
      });
      const out = base.pipe(
        prequential(logistic()),
        instrument(metrics, { mode: 'replay', modelEveryMs: 10, scheduler: ts }),
      );
      expectObservable(out, '^ 30ms !').toBe('a 4ms b 4ms c 4ms d 9ms e|', {
        a: expect.objectContaining({ batch: 0 }),
        b: expect.objectContaining({ batch: 1 }),
        c: expect.objectContaining({ batch: 2 }),
        d: expect.objectContaining({ batch: 3 }),
        e: expect.objectContaining({ batch: 4 }),
      });
      expectSubscriptions(base.subscriptions).toBe('^ 25ms !');
    });
    // a at 0 reads; b at 5 is within 10 ms; c at 10 reads; d at 15 no; e at 25 reads; completion flushes at 26.
    expect(reads).toEqual([0, 10, 25, 26]);
  });
});
