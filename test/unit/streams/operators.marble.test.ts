/** Marble tests (RxJS TestScheduler, with expectSubscriptions) of decodeEvents, prequential, fanOut, instrument and checkpoint. */
import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createRegistry } from '../../../src/metrics/createRegistry.js';
import { checkpoint } from '../../../src/streams/checkpoint.js';
import type { CheckpointStore } from '../../../src/streams/checkpointStore.js';
import { decodeEvents, isDeadLetter, type Decoded } from '../../../src/streams/decodeEvents.js';
import { fanOut } from '../../../src/streams/fanOut.js';
import { instrument } from '../../../src/streams/instrument.js';
import { prequential, type PrequentialResult } from '../../../src/streams/prequential.js';
import { envelope, eventJson, logistic, raw } from './helpers.js';

const scheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const outcome = (d: Decoded) => (isDeadLetter(d) ? `dead:${d.reason}` : `event:${d.event.id}`);

describe('operators (marbles)', () => {
  it('decodeEvents: one outcome per message, at the same frame, arrival batches kept whole', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-b--c|', {
        a: raw('{"id":"a","ts":1,"x":[1,2]}', 0),
        b: raw('{bad', 1),
        c: [raw('{"id":"c","ts":1,"x":[1,2]}', 2), raw('{"id":"d","ts":1,"x":[1]}', 3)],
      });
      expectObservable(
        src.pipe(
          decodeEvents(),
          map((d) => (Array.isArray(d) ? d.map(outcome) : outcome(d))),
        ),
      ).toBe('a-b--c|', { a: 'event:a', b: 'dead:bad_json', c: ['event:c', 'dead:bad_shape'] });
      expectSubscriptions(src.subscriptions).toBe('^-----!');
    });
  });

  it('decodeEvents: errors pass through and unsubscribe; unsubscribing stops the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-#', { a: raw('{"id":"a","ts":1,"x":[1]}', 0) });
      expectObservable(src.pipe(decodeEvents(), map(outcome))).toBe('a-#', { a: 'event:a' });
      expectSubscriptions(src.subscriptions).toBe('^-!');
      const src2 = cold('a---a', { a: raw('{"id":"a","ts":1,"x":[1]}', 0) });
      expectObservable(src2.pipe(decodeEvents(), map(outcome)), '^-!').toBe('a--', { a: 'event:a' });
      expectSubscriptions(src2.subscriptions).toBe('^-!');
    });
  });

  it('prequential: one result per batch, at the batch frame, numbered in order', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const batch = (i: number) => [
        envelope(eventJson(2 * i), 2 * i),
        envelope(eventJson(2 * i + 1), 2 * i + 1),
      ];
      const src = cold('a--b-c|', { a: batch(0), b: batch(1), c: batch(2) });
      expectObservable(
        src.pipe(
          prequential(logistic()),
          map((r: PrequentialResult) => `${r.batch}:${r.envelopes.length}:${r.offsets['t:0']}`),
        ),
      ).toBe('a--b-c|', { a: '0:2:2', b: '1:2:4', c: '2:2:6' });
      expectSubscriptions(src.subscriptions).toBe('^-----!');
    });
  });

  it('fanOut: every branch sees every value; completes when all branches have; one subscription to the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-----b---|', { a: 1, b: 2 });
      expectObservable(
        src.pipe(
          fanOut({ x: map((v: number) => v * 10), y: map((v: number) => -v) }),
          map((l) => `${l.variant}${l.value}`),
        ),
      ).toBe('(pq)--(rs)|', { p: 'x10', q: 'y-1', r: 'x20', s: 'y-2' });
      expectSubscriptions(src.subscriptions).toBe('^---------!');
    });
  });

  it('fanOut: an error in one branch errors the output and unsubscribes the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a---b-c|', { a: 1, b: 2, c: 3 });
      const boom = map((v: number) => {
        if (v === 2) throw new Error('boom');
        return v;
      });
      expectObservable(
        src.pipe(
          fanOut({ ok: map((v: number) => v), bad: boom }),
          map((l) => l.variant + l.value),
        ),
      ).toBe('(ab)(c#)', { a: 'ok1', b: 'bad1', c: 'ok2' }, new Error('boom'));
      expectSubscriptions(src.subscriptions).toBe('^---!');
    });
  });

  it('instrument: passes results through unchanged, at the same frames, on a virtual clock', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const model = logistic();
      const batch = (i: number) => [envelope(eventJson(i), i)];
      const base = cold('a-b 20ms c|', { a: batch(0), b: batch(1), c: batch(2) });
      const src = base.pipe(prequential(model));
      const registry = createRegistry();
      const out = src.pipe(
        instrument(registry, { mode: 'replay', modelEveryMs: 10, now: () => ts.now() }),
        map((r) => r.batch),
      );
      expectObservable(out).toBe('a-b 20ms c|', { a: 0, b: 1, c: 2 });
      expectSubscriptions(base.subscriptions).toBe('^ 23ms !');
    });
  });

  it('checkpoint: subscribes once and unsubscribes from the source on error (timing is not on an RxJS scheduler)', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const store: CheckpointStore = {
        save: () => Promise.reject(new Error('not reached')),
        load: () => Promise.resolve(null),
      };
      const src = cold('a-#', {
        a: {
          batch: 0,
          messages: 1,
          offsets: { 't:0': '1' },
          models: {},
          progress: { batches: 1 },
          pending: [],
          variants: [],
        } as unknown as PrequentialResult,
      });
      expectObservable(src.pipe(checkpoint(store, { everyMs: Infinity }))).toBe('--#');
      expectSubscriptions(src.subscriptions).toBe('^-!');
    });
  });
});
