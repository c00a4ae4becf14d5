import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  arrange,
  formatArrival,
  parseArrival,
  parseArrivalList,
  type ArrivalOrder,
} from '../../../src/experiment/arrival.js';
import type { StreamEvent } from '../../../src/streams/event.js';

/** Events with a class label and a key; ids are their recorded positions. */
const eventsArb = fc
  .array(fc.record({ y: fc.integer({ min: 0, max: 3 }), key: fc.constantFrom('a', 'b', 'c', 'd', 'e') }), {
    maxLength: 80,
  })
  .map((rows) =>
    rows.map((r, i): StreamEvent => ({ id: String(i), ts: i, x: [i], y: r.y, key: `k${r.key}` })),
  );

const orderArb: fc.Arbitrary<ArrivalOrder> = fc.oneof(
  fc.constant<ArrivalOrder>({ kind: 'iid' }),
  fc.constant<ArrivalOrder>({ kind: 'recorded' }),
  fc.integer({ min: 1, max: 12 }).map((run): ArrivalOrder => ({ kind: 'bursty', run })),
  fc.integer({ min: 1, max: 12 }).map((run): ArrivalOrder => ({ kind: 'keyed', run })),
);

const ids = (events: readonly StreamEvent[]): string[] => events.map((e) => e.id);

/** Each group's events in recorded order, cut into chunks of `run`: every chunk must arrive contiguously. */
function chunksAreContiguous(
  out: readonly StreamEvent[],
  run: number,
  groupOf: (e: StreamEvent) => string,
): boolean {
  const position = new Map(out.map((e, i) => [e.id, i]));
  const groups = new Map<string, StreamEvent[]>();
  for (const e of [...out].sort((a, b) => Number(a.id) - Number(b.id))) {
    const g = groupOf(e);
    groups.set(g, [...(groups.get(g) ?? []), e]);
  }
  for (const members of groups.values()) {
    for (let start = 0; start < members.length; start += run) {
      const chunk = members.slice(start, start + run).map((e) => position.get(e.id)!);
      for (let k = 1; k < chunk.length; k++) if (chunk[k] !== chunk[k - 1] + 1) return false;
    }
  }
  return true;
}

describe('arrival orders', () => {
  it('parse and format round-trip; bad specs are refused with the spec named', () => {
    for (const s of ['iid', 'recorded', 'bursty:8', 'keyed:1'])
      expect(formatArrival(parseArrival(s))).toBe(s);
    for (const bad of ['bursty', 'bursty:0', 'keyed:-1', 'keyed:1.5', 'shuffle', '']) {
      expect(() => parseArrival(bad)).toThrow(ConfigError);
    }
    expect(() => parseArrival('bursty:0')).toThrow(/bursty:0/);
    expect(parseArrivalList('iid, bursty:8,keyed:4').map(formatArrival)).toEqual([
      'iid',
      'bursty:8',
      'keyed:4',
    ]);
    expect(() => parseArrivalList('iid,iid')).toThrow(/given twice/);
    expect(() => parseArrivalList(' , ')).toThrow(/no arrival order/);
  });

  it('every order preserves the multiset of events and leaves its input untouched', () => {
    fc.assert(
      fc.property(eventsArb, orderArb, fc.integer({ min: 0, max: 1000 }), (events, order, seed) => {
        const before = ids(events);
        const out = arrange(events, order, seed);
        expect(ids(events)).toEqual(before);
        expect(ids(out).sort()).toEqual([...before].sort());
        expect(new Set(out).size).toBe(out.length);
      }),
      { numRuns: 300 },
    );
  });

  it('bursty keeps each class in recorded order and delivers it in runs of R', () => {
    fc.assert(
      fc.property(eventsArb, fc.integer({ min: 1, max: 12 }), fc.nat(1000), (events, run, seed) => {
        const out = arrange(events, { kind: 'bursty', run }, seed);
        for (const c of [0, 1, 2, 3]) {
          const inClass = ids(out.filter((e) => e.y === c)).map(Number);
          expect(inClass).toEqual([...inClass].sort((a, b) => a - b));
        }
        expect(chunksAreContiguous(out, run, (e) => String(e.y))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keyed keeps each key in recorded order and delivers it in runs of R', () => {
    fc.assert(
      fc.property(eventsArb, fc.integer({ min: 1, max: 12 }), fc.nat(1000), (events, run, seed) => {
        const out = arrange(events, { kind: 'keyed', run }, seed);
        for (const k of ['ka', 'kb', 'kc', 'kd', 'ke']) {
          const ofKey = ids(out.filter((e) => e.key === k)).map(Number);
          expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
        }
        expect(chunksAreContiguous(out, run, (e) => e.key!)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the contiguity check is real: an interleaved order fails it', () => {
    const ev = (i: number, y: number): StreamEvent => ({ id: String(i), ts: i, x: [i], y });
    const interleaved = [ev(0, 0), ev(1, 1), ev(2, 0), ev(3, 1)];
    expect(chunksAreContiguous(interleaved, 2, (e) => String(e.y))).toBe(false);
    expect(chunksAreContiguous([ev(0, 0), ev(2, 0), ev(1, 1), ev(3, 1)], 2, (e) => String(e.y))).toBe(true);
  });

  it('one seed gives one order, another seed another; recorded ignores the seed', () => {
    const events = Array.from({ length: 200 }, (_, i): StreamEvent => ({
      id: String(i),
      ts: i,
      x: [i],
      y: i % 3,
      key: `k${i % 7}`,
    }));
    for (const spec of ['iid', 'bursty:4', 'keyed:4']) {
      const order = parseArrival(spec);
      expect(ids(arrange(events, order, 7))).toEqual(ids(arrange(events, order, 7)));
      expect(ids(arrange(events, order, 7))).not.toEqual(ids(arrange(events, order, 8)));
    }
    expect(ids(arrange(events, { kind: 'recorded' }, 1))).toEqual(ids(events));
  });

  it("draws each run's class in proportion to what is left", () => {
    // 90 events of class 0 and 10 of class 1: the first run is class 0 about 90 % of the time.
    const events = Array.from({ length: 100 }, (_, i): StreamEvent => ({
      id: String(i),
      ts: i,
      x: [i],
      y: i < 90 ? 0 : 1,
    }));
    let first0 = 0;
    const seeds = 2000;
    for (let seed = 0; seed < seeds; seed++)
      if (arrange(events, { kind: 'bursty', run: 5 }, seed)[0].y === 0) first0++;
    // Binomial(2000, 0.9): sd 13.4; ±5 sd.
    expect(first0).toBeGreaterThan(1800 - 67);
    expect(first0).toBeLessThan(1800 + 67);
  });

  it('refuses keyed arrival without keys and bursty arrival without class labels, naming the event', () => {
    const noKey: StreamEvent[] = [{ id: 'e1', ts: 0, x: [0], y: 0 }];
    expect(() => arrange(noKey, { kind: 'keyed', run: 2 }, 0)).toThrow(/e1 has no key/);
    const noLabel: StreamEvent[] = [{ id: 'e2', ts: 0, x: [0], key: 'a' }];
    expect(() => arrange(noLabel, { kind: 'bursty', run: 2 }, 0)).toThrow(/e2 has no class label/);
  });
});
