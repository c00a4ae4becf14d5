/**
 * Properties of the acknowledgement frontier (PartitionTracker) under out-of-order, duplicate and bogus
 * acknowledgements, against a plain reference model: the frontier is the smallest unacknowledged handed-over
 * offset (or the next to hand over), never passes an unacknowledged offset, and never moves back.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PartitionTracker } from '../../src/streams/partitionTracker.js';

type Op =
  | { kind: 'fetch'; count: number }
  | { kind: 'emit'; count: number }
  | { kind: 'ack'; pick: number }
  | { kind: 'bogus'; offset: number }
  | { kind: 'drop' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('fetch' as const), count: fc.integer({ min: 1, max: 6 }) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('emit' as const), count: fc.integer({ min: 1, max: 6 }) }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('ack' as const), pick: fc.nat() }), weight: 5 },
  {
    arbitrary: fc.record({ kind: fc.constant('bogus' as const), offset: fc.integer({ min: 0, max: 400 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const) }), weight: 1 },
);

/**
 * Runs the ops on a tracker and on a reference (sets and arrays), checking the invariants after every step.
 * `gaps` are the distances between consecutive offsets of the partition (1 = contiguous; more = a compacted
 * topic or transaction markers).
 */
function check(start: number | null, gaps: number[], ops: Op[]): void {
  const t = new PartitionTracker();
  if (start !== null) t.start(start);
  // The partition's offsets from the start position on.
  const offsets: number[] = [];
  let o = start ?? 0;
  for (const g of gaps) {
    offsets.push(o);
    o += g;
  }
  let fetched = 0; // offsets[0, fetched) were queued or handed over
  let emitted = 0; // offsets[0, emitted) were handed over
  const acked = new Set<number>();
  let passedTotal = 0;
  let lastFrontier = t.frontier;

  const smallestUnacked = (): number | null => {
    for (let i = 0; i < emitted; i++) if (!acked.has(offsets[i])) return offsets[i];
    return null;
  };

  for (const step of ops) {
    if (step.kind === 'fetch') {
      const n = Math.min(step.count, offsets.length - fetched);
      if (n === 0) continue;
      fetched += n;
      t.queue(n, offsets[fetched - 1]);
    } else if (step.kind === 'emit') {
      const n = Math.min(step.count, fetched - emitted);
      for (let i = 0; i < n; i++) t.emit(offsets[emitted++]);
    } else if (step.kind === 'ack') {
      if (emitted === 0) continue;
      const off = offsets[step.pick % emitted]; // may be a duplicate
      passedTotal += t.ack(off);
      acked.add(off);
    } else if (step.kind === 'bogus') {
      // Never handed over: changes nothing (nor does a duplicate of what is behind the frontier).
      const handed = offsets.slice(0, emitted);
      if (handed.includes(step.offset)) continue;
      const before = [t.frontier, t.inFlight];
      expect(t.ack(step.offset)).toBe(0);
      expect([t.frontier, t.inFlight]).toEqual(before);
    } else {
      t.dropQueued();
      fetched = emitted;
    }

    const f = t.frontier;
    // Monotone.
    if (lastFrontier !== null) expect(f).not.toBeNull();
    if (lastFrontier !== null && f !== null) expect(f).toBeGreaterThanOrEqual(lastFrontier);
    lastFrontier = f;
    if (emitted === 0 && start === null) {
      expect(f).toBeNull();
      continue;
    }
    expect(f).not.toBeNull();
    const frontier = f as number;
    // Never past an unacknowledged offset; everything handed over below it is acknowledged.
    const low = smallestUnacked();
    if (low !== null) expect(frontier).toBeLessThanOrEqual(low);
    for (let i = 0; i < emitted && offsets[i] < frontier; i++) expect(acked.has(offsets[i])).toBe(true);
    // Exactly the smallest unacknowledged offset (or the next to hand over) when offsets are contiguous, and
    // never below the offset after the acknowledged prefix's last.
    const prefix = offsets.slice(0, emitted);
    let k = 0;
    while (k < prefix.length && acked.has(prefix[k])) k++;
    const expected = k === 0 ? (start ?? prefix[0]) : prefix[k - 1] + 1;
    expect(frontier).toBe(expected);
    if (gaps.every((g) => g === 1)) expect(frontier).toBe(low ?? (start ?? 0) + emitted);
    // Each offset passes behind the frontier once.
    expect(passedTotal).toBe(k);
    expect(t.inFlight).toBe(fetched - k);
    expect(t.queued).toBe(fetched - emitted);
    expect(t.emittedNext).toBe(emitted === 0 ? start : offsets[emitted - 1] + 1);
    expect(t.fetchedNext).toBe(fetched === 0 ? start : offsets[fetched - 1] + 1);
  }
}

describe('PartitionTracker', () => {
  it('contiguous offsets: the frontier is the smallest unacknowledged offset, monotone, whatever the ack order', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(op, { maxLength: 200 }),
        (start, n, ops) => check(start, new Array<number>(n).fill(1), ops),
      ),
      { numRuns: 300 },
    );
  });

  it('offsets with gaps (compacted topics): never past an unacknowledged offset', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 60 }),
        fc.array(op, { maxLength: 200 }),
        check,
      ),
      { numRuns: 300 },
    );
  });

  it('acknowledging every handed-over offset in any order moves the frontier to the next to hand over', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc
          .integer({ min: 1, max: 300 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
            ),
          ),
        (start, [n, order]) => {
          const t = new PartitionTracker();
          t.start(start);
          t.queue(n, start + n - 1);
          for (let i = 0; i < n; i++) t.emit(start + i);
          let passed = 0;
          for (const i of order) passed += t.ack(start + i);
          expect(passed).toBe(n);
          expect(t.frontier).toBe(start + n);
          expect(t.inFlight).toBe(0);
        },
      ),
    );
  });

  it('stays exact past its compaction threshold (thousands of in-order acks with a straggler)', () => {
    const t = new PartitionTracker();
    const n = 20_000;
    t.queue(n, n - 1);
    for (let i = 0; i < n; i++) t.emit(i);
    expect(t.frontier).toBe(0);
    t.ack(0);
    for (let i = 2; i < n; i++) t.ack(i);
    expect(t.frontier).toBe(1);
    expect(t.inFlight).toBe(n - 1);
    expect(t.ack(1)).toBe(n - 1);
    expect(t.frontier).toBe(n);
    expect(t.inFlight).toBe(0);
  });
});
